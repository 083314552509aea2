/*
 * leak/sarif.c -- --format=sarif: the report as a SARIF 2.1.0 log, for
 * code-scanning tools and editors.  One run; tool.driver "leak" with a
 * rule for every leak class and every heap error kind, always in the
 * same order (ruleIndex is stable); one result per leak record and per
 * heap error, its level from the rule, its location the innermost frame
 * that has a source file, and its whole printed stack in "stacks" (each
 * frame with its source location, function and module).
 *
 * Must never: print anything but the one document to Report.out, or a
 * uri that is not a valid URI reference (paths are percent-encoded).
 */
#include "leak.h"

#include <inttypes.h>
#include <string.h>

typedef struct Rule Rule;
struct Rule {
	const char *id;		/* a class name or an errors.kind */
	const char *name;	/* PascalCase, as SARIF names rules */
	const char *level;	/* error, warning or note */
	const char *text;	/* its short description */
};

static const Rule rules[] = {
	{ "definite", "DefinitelyLost", "error",
	  "A block no pointer points to any more: definitely lost" },
	{ "indirect", "IndirectlyLost", "warning",
	  "A block only lost blocks point to: indirectly lost" },
	{ "possible", "PossiblyLost", "warning",
	  "A block only pointers into its middle point to: possibly lost" },
	{ "reachable", "StillReachable", "note",
	  "A block still pointed to when the program ended" },
	{ "unclassified", "LiveAtExit", "warning",
	  "A block live when a process ended without a reachability scan" },
	{ "overflow", "HeapOverflow", "error", "A write past the end of a block" },
	{ "underflow", "HeapUnderflow", "error", "A write before the start of a block" },
	{ "double-free", "DoubleFree", "error", "A block freed twice" },
	{ "invalid-free", "InvalidFree", "error", "A free of a pointer the allocator never gave" },
	{ "write-after-free", "WriteAfterFree", "error", "A write to a block after it was freed" },
	{ "mismatched-free", "MismatchedFree", "error",
	  "A block freed by a call of another family than the one that made it" },
	{ "realloc-freed", "ReallocFreed", "error", "A realloc of a block already freed" },
	{ "use-after-free", "UseAfterFree", "error", "A read or write of a guarded block after it was freed" },
	{ "corruption", "HeapCorruption", "error", "The allocator's structures are damaged" },
	{ "notice", "HeapNotice", "note", "Something the allocator noticed" },
	{ "heap-error", "HeapError", "error", "A heap error of a kind this leak does not know" },
};

enum { RULE_HEAPERROR = nelem(rules) - 1 };

/* The rule of an error kind (NULL: unknown); RULE_HEAPERROR if none fits. */
static int
rulebykind(const char *kind)
{
	int i;

	for (i = 0; kind != NULL && i < RULE_HEAPERROR; i++)
		if (strcmp(rules[i].id, kind) == 0)
			return i;
	return RULE_HEAPERROR;
}

static int
rulebyclass(int cls)
{
	return rulebykind(class_name(cls));
}

/* A path as a URI reference: file:///abs for an absolute one, relative otherwise. */
static void
uriout(Report *r, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s;

	fputc('"', r->out);
	if (path[0] == '/')
		fputs("file://", r->out);
	for (s = (const unsigned char *)path; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    strchr("/-._~!$&'()*+,;=:@", *s) != NULL)
			fputc(*s, r->out);
		else
			fprintf(r->out, "%%%c%c", hex[*s >> 4], hex[*s & 15]);
	}
	fputc('"', r->out);
}

/* A location object for frame f: its source line if known, its function. */
static void
locationout(Report *r, const Frame *f)
{
	int any;

	fputc('{', r->out);
	any = 0;
	if (f->file != NULL) {
		fputs("\"physicalLocation\": {\"artifactLocation\": {\"uri\": ", r->out);
		uriout(r, f->file);
		fputc('}', r->out);
		if (f->line > 0)
			fprintf(r->out, ", \"region\": {\"startLine\": %d}", f->line);
		fputc('}', r->out);
		any = 1;
	}
	if (f->function != NULL) {
		fputs(any ? ", " : "", r->out);
		fputs("\"logicalLocations\": [{\"fullyQualifiedName\": ", r->out);
		json_str(r->out, f->function);
		fputs(", \"kind\": \"function\"}]", r->out);
	}
	fputc('}', r->out);
}

/* The innermost frame with a source file as "locations", then the whole stack as "stacks". */
static void
whereout(Report *r, const Frame *fr, int n, const char *what)
{
	int i;

	for (i = 0; i < n && fr[i].file == NULL; i++)
		;
	if (i < n) {
		fputs(",\n    \"locations\": [", r->out);
		locationout(r, &fr[i]);
		fputc(']', r->out);
	}
	if (n == 0)
		return;
	fprintf(r->out, ",\n    \"stacks\": [{\"message\": {\"text\": \"%s\"}, \"frames\": [", what);
	for (i = 0; i < n; i++) {
		fputs(i > 0 ? ",\n      {\"location\": " : "\n      {\"location\": ", r->out);
		locationout(r, &fr[i]);
		if (fr[i].module != NULL) {
			fputs(", \"module\": ", r->out);
			json_str(r->out, fr[i].module);
		}
		fprintf(r->out, ", \"properties\": {\"pc\": \"0x%" PRIx64 "\", \"inlined\": %s}}",
		    fr[i].pc, fr[i].inlined ? "true" : "false");
	}
	fputs("]}]", r->out);
}

static void
resultstart(Report *r, int rule)
{
	fprintf(r->out, "%s\n   {\"ruleId\": \"%s\", \"ruleIndex\": %d, \"level\": \"%s\",",
	    r->nshown + r->nitems > 0 ? "," : "", rules[rule].id, rule, rules[rule].level);
	r->nitems++;
}

static void
errorresult(Report *r, const Herr *e)
{
	static Frame fr[MAXFRAMES];
	char msg[512];
	const char *last, *s;
	int rule, n;
	size_t len;

	rule = rulebykind(e->kind);
	resultstart(r, rule);
	/* the message: the kind, the address, the pool's last line (its reason) */
	last = NULL;
	len = 0;
	for (s = e->message; s != NULL && *s != '\0'; ) {
		const char *nl = strchr(s, '\n');
		size_t l = nl != NULL ? (size_t)(nl - s) : strlen(s);

		if (l > 0) {
			last = s;
			len = l;
		}
		s += l + (nl != NULL);
	}
	if (e->ptr != 0)
		snprintf(msg, sizeof msg, "%s at 0x%" PRIx64 "%s%.*s", e->kind != NULL ? e->kind : "heap error",
		    e->ptr, last != NULL ? ": " : "", (int)(len > 400 ? 400 : len), last != NULL ? last : "");
	else
		snprintf(msg, sizeof msg, "%s%s%.*s", e->kind != NULL ? e->kind : "heap error",
		    last != NULL ? ": " : "", (int)(len > 400 ? 400 : len), last != NULL ? last : "");
	fputs(" \"message\": {\"text\": ", r->out);
	json_str(r->out, msg);
	fputc('}', r->out);
	n = report_frames(r, e->proc->id, e->stack, fr);
	whereout(r, fr, n, "where the error was found");
	fprintf(r->out, ",\n    \"properties\": {\"pid\": %d", e->proc->pid);
	if (e->ptr != 0)
		fprintf(r->out, ", \"address\": \"0x%" PRIx64 "\"", e->ptr);
	if (e->size >= 0)
		fprintf(r->out, ", \"size\": %" PRId64, e->size);
	fputs("}}", r->out);
}

static void
sarifbegin(Report *r)
{
	size_t i;

	fputs("{\"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
	    " \"version\": \"2.1.0\",\n"
	    " \"runs\": [{\n"
	    "  \"tool\": {\"driver\": {\"name\": \"leak\", \"version\": \"" PACKAGE_VERSION "\",\n"
	    "   \"rules\": [", r->out);
	for (i = 0; i < nelem(rules); i++) {
		fprintf(r->out, "%s\n    {\"id\": \"%s\", \"name\": \"%s\", "
		    "\"shortDescription\": {\"text\": \"%s\"}, "
		    "\"defaultConfiguration\": {\"level\": \"%s\"}}",
		    i > 0 ? "," : "", rules[i].id, rules[i].name, rules[i].text, rules[i].level);
	}
	fputs("]}},\n  \"results\": [", r->out);
	for (i = 0; i < r->m->nerrs; i++)
		errorresult(r, &r->m->errs[i]);
}

static void
sarifleak(Report *r, const Leak *l, const Frame *fr, int n)
{
	char msg[200];

	resultstart(r, rulebyclass(l->cls));
	snprintf(msg, sizeof msg, "%s%" PRIu64 " bytes in %" PRIu64 " block%s %s",
	    r->m->sample > 0 ? "an estimated " : "", l->bytes,
	    l->blocks, l->blocks == 1 ? "" : "s", class_words(l->cls));
	fprintf(r->out, " \"message\": {\"text\": \"%s\"}", msg);
	whereout(r, fr, n, "allocation stack");
	fprintf(r->out, ",\n    \"properties\": {\"pid\": %d, \"bytes\": %" PRIu64
	    ", \"blocks\": %" PRIu64, l->proc->pid, l->bytes, l->blocks);
	/* a sampled trace: the figures are estimates (leak(1), ESTIMATES) */
	if (r->m->sample > 0)
		fprintf(r->out, ", \"estimated\": true, \"sampleBytes\": %.0f", r->m->sample);
	fputs("}}", r->out);
}

static void
sarifend(Report *r)
{
	fputs("],\n  \"invocations\": [{\"executionSuccessful\": true}]", r->out);
	if (r->m->sample > 0)
		fprintf(r->out, ",\n  \"properties\": {\"estimated\": true, \"sampleBytes\": %.0f}",
		    r->m->sample);
	fputs("\n }]}\n", r->out);
}

const Format fmt_sarif = { "sarif", 0, sarifbegin, sarifleak, sarifend };
