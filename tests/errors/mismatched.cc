// tests/errors/mismatched.cc -- new with free, new[] with delete, malloc with delete.
#include <cstdlib>

#include "errs.h"

KEEP int *
make_one(void)
{
	return new int(7);
}

KEEP int *
make_many(void)
{
	return new int[10];
}

KEEP void
free_one(int *p)
{
	std::free(p);
}

KEEP void
delete_many(int *p)
{
	delete p;
}

KEEP void
delete_malloced(void)
{
	char *p = static_cast<char *>(std::malloc(20));

	delete p;
}

int
main(void)
{
	free_one(make_one());
	delete_many(make_many());
	delete_malloced();
	return 0;
}
