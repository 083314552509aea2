/*
 * leak/json.c -- --format=json: the report as one JSON document, the
 * public contract leak(1) documents (keys are only ever added):
 *
 *   { "trace", "processes": [{pid, exe, argv, exit_status, end, signal}],
 *     "summary": {CLASS: {bytes, blocks}, ...},
 *     "leaks": [{kind, pid, bytes, blocks, address, preview, stack}],
 *     "errors": [{kind, pid, address, size, block, offset, message, stack,
 *                 alloc_stack, free_stack}],
 *     "suppressed": [{name, file, line, records, bytes, blocks}],
 *     and in a sampled trace only: "estimated": true, "sample_bytes" }
 *
 * and the string writer sarif.c shares: valid UTF-8 passes through,
 * control characters are escaped, and a byte that is not part of valid
 * UTF-8 becomes \u00XX (its Latin-1 reading), so the output always
 * parses whatever bytes a trace holds.
 *
 * Must never: print anything but the one document to Report.out.
 */
#include "leak.h"

#include <inttypes.h>
#include <string.h>

/* Bytes of the valid UTF-8 sequence at s (n bytes left); 0 if none starts there. */
static size_t
utf8len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned char lo, hi;

	if (s[0] < 0x80)
		return 1;
	lo = 0x80;
	hi = 0xbf;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* not overlong */
		if (s[0] == 0xed)
			hi = 0x9f;	/* not a surrogate */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		if (s[0] == 0xf4)
			hi = 0x8f;	/* not above U+10FFFF */
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

void
json_strn(FILE *out, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i, k;

	fputc('"', out);
	for (i = 0; i < n; i += k) {
		k = 1;
		switch (s[i]) {
		case '"':
			fputs("\\\"", out);
			continue;
		case '\\':
			fputs("\\\\", out);
			continue;
		case '\n':
			fputs("\\n", out);
			continue;
		case '\t':
			fputs("\\t", out);
			continue;
		case '\r':
			fputs("\\r", out);
			continue;
		case '\b':
			fputs("\\b", out);
			continue;
		case '\f':
			fputs("\\f", out);
			continue;
		}
		if (s[i] < 0x20) {
			fprintf(out, "\\u%04x", s[i]);
			continue;
		}
		if ((k = utf8len(s + i, n - i)) == 0) {
			fprintf(out, "\\u%04x", s[i]);	/* a stray byte: its Latin-1 reading */
			k = 1;
			continue;
		}
		fwrite(s + i, 1, k, out);
	}
	fputc('"', out);
}

void
json_str(FILE *out, const char *s)
{
	if (s == NULL)
		fputs("null", out);
	else
		json_strn(out, s, strlen(s));
}

void
json_addr(FILE *out, uint64_t a)
{
	fprintf(out, "\"0x%" PRIx64 "\"", a);
}

/* A stack as an array of frames, innermost first. */
static void
framesout(Report *r, const Frame *fr, int n)
{
	int i;

	fputc('[', r->out);
	for (i = 0; i < n; i++) {
		fputs(i > 0 ? ",\n      {\"pc\": " : "\n      {\"pc\": ", r->out);
		json_addr(r->out, fr[i].pc);
		fputs(", \"function\": ", r->out);
		json_str(r->out, fr[i].function);
		fputs(", \"file\": ", r->out);
		json_str(r->out, fr[i].file);
		if (fr[i].line > 0)
			fprintf(r->out, ", \"line\": %d", fr[i].line);
		else
			fputs(", \"line\": null", r->out);
		fputs(", \"module\": ", r->out);
		json_str(r->out, fr[i].module);
		fprintf(r->out, ", \"inlined\": %s}", fr[i].inlined ? "true" : "false");
	}
	fputs(n > 0 ? "]" : "]", r->out);
}

/* The frames of (process, stack) as framesout prints them. */
static void
stackout(Report *r, int64_t process, int64_t stack)
{
	static Frame fr[MAXFRAMES];

	framesout(r, fr, report_frames(r, process, stack, fr));
}

/* cmdline split at spaces, as it was joined. */
static void
argvout(Report *r, const char *cmd)
{
	const char *e;
	int first;

	if (cmd == NULL) {
		fputs("null", r->out);
		return;
	}
	fputc('[', r->out);
	first = 1;
	while (*cmd != '\0') {
		e = strchr(cmd, ' ');
		if (e == NULL)
			e = cmd + strlen(cmd);
		if (!first)
			fputs(", ", r->out);
		json_strn(r->out, cmd, (size_t)(e - cmd));
		first = 0;
		cmd = *e == ' ' ? e + 1 : e;
	}
	fputc(']', r->out);
}

static void
jsonbegin(Report *r)
{
	static const int order[] = {
		CLASS_DEFINITE, CLASS_INDIRECT, CLASS_POSSIBLE, CLASS_REACHABLE, CLASS_UNCLASSIFIED,
	};
	const Model *m = r->m;
	const Proc *p;
	const char *how;
	size_t i;
	int k, first;

	fputs("{\"trace\": ", r->out);
	json_str(r->out, r->trace);
	/* a sampled trace: every bytes and blocks below is an estimate */
	if (m->sample > 0)
		fprintf(r->out, ",\n \"estimated\": true, \"sample_bytes\": %.0f", m->sample);
	fputs(",\n \"processes\": [", r->out);
	first = 1;
	for (k = 0; k < m->nprocs; k++) {
		p = &m->procs[k];
		if (!p->chosen)
			continue;
		fprintf(r->out, "%s\n  {\"pid\": %d, \"exe\": ", first ? "" : ",", p->pid);
		json_str(r->out, p->exe);
		fputs(", \"argv\": ", r->out);
		argvout(r, p->cmdline);
		how = p->end_how != NULL ? p->end_how : "";
		fputs(", \"exit_status\": ", r->out);
		if (p->has_status && (strcmp(how, "exit") == 0 || strcmp(how, "_exit") == 0))
			fprintf(r->out, "%" PRId64, p->end_status);
		else
			fputs("null", r->out);
		fputs(", \"end\": ", r->out);
		json_str(r->out, p->end_how);
		fputs(", \"signal\": ", r->out);
		if (p->has_status && (strcmp(how, "signal") == 0 || strcmp(how, "killed") == 0))
			fprintf(r->out, "%" PRId64, p->end_status);
		else
			fputs("null", r->out);
		fputc('}', r->out);
		first = 0;
	}
	fputs("],\n \"summary\": {", r->out);
	for (i = 0; i < nelem(order); i++)
		fprintf(r->out, "%s\"%s\": {\"bytes\": %" PRIu64 ", \"blocks\": %" PRIu64 "}",
		    i > 0 ? ", " : "", class_name(order[i]), m->sum[order[i]].bytes,
		    m->sum[order[i]].blocks);
	fputs("},\n \"leaks\": [", r->out);
}

static void
jsonleak(Report *r, const Leak *l, const Frame *fr, int n)
{
	int i;

	fprintf(r->out, "%s\n  {\"kind\": \"%s\", \"pid\": %d, \"bytes\": %" PRIu64
	    ", \"blocks\": %" PRIu64 ", \"address\": ", r->nshown > 0 ? "," : "",
	    class_name(l->cls), l->proc->pid, l->bytes, l->blocks);
	json_addr(r->out, l->ptr);
	fputs(", \"preview\": ", r->out);
	if (l->npreview < 0)
		fputs("null", r->out);
	else {
		fputc('"', r->out);
		for (i = 0; i < l->npreview; i++)
			fprintf(r->out, "%02x", l->preview[i]);
		fputc('"', r->out);
	}
	fputs(",\n    \"stack\": ", r->out);
	framesout(r, fr, n);
	fputc('}', r->out);
}

static void
jsonend(Report *r)
{
	const Model *m = r->m;
	const Herr *e;
	SuppUse u;
	size_t i;
	int k, first;

	fputs("],\n \"errors\": [", r->out);
	for (i = 0; i < m->nerrs; i++) {
		e = &m->errs[i];
		fprintf(r->out, "%s\n  {\"kind\": ", i > 0 ? "," : "");
		json_str(r->out, e->kind);
		fprintf(r->out, ", \"pid\": %d, \"address\": ", e->proc->pid);
		if (e->ptr != 0)
			json_addr(r->out, e->ptr);
		else
			fputs("null", r->out);
		if (e->size >= 0)
			fprintf(r->out, ", \"size\": %" PRId64, e->size);
		else
			fputs(", \"size\": null", r->out);
		if (e->hasblock) {
			fputs(", \"block\": ", r->out);
			json_addr(r->out, e->block);
			fprintf(r->out, ", \"offset\": %" PRId64, e->offset);
		} else
			fputs(", \"block\": null, \"offset\": null", r->out);
		fputs(", \"message\": ", r->out);
		json_str(r->out, e->message);
		fputs(",\n    \"stack\": ", r->out);
		stackout(r, e->proc->id, e->stack);
		fputs(",\n    \"alloc_stack\": ", r->out);
		stackout(r, e->proc->id, e->size >= 0 ? e->alloc_stack : 0);
		fputs(",\n    \"free_stack\": ", r->out);
		stackout(r, e->proc->id, e->size >= 0 ? e->free_stack : 0);
		fputc('}', r->out);
	}
	fputs("],\n \"suppressed\": [", r->out);
	first = 1;
	for (k = 0; r->supps != NULL && k < supp_count(r->supps); k++) {
		supp_use(r->supps, k, &u);
		if (u.records == 0)
			continue;
		fputs(first ? "\n  {\"name\": " : ",\n  {\"name\": ", r->out);
		json_str(r->out, u.name);
		fputs(", \"file\": ", r->out);
		json_str(r->out, u.file);
		fprintf(r->out, ", \"line\": %d, \"records\": %" PRIu64 ", \"bytes\": %" PRIu64
		    ", \"blocks\": %" PRIu64 "}", u.line, u.records, u.bytes, u.blocks);
		first = 0;
	}
	fputs("]}\n", r->out);
}

const Format fmt_json = { "json", 0, jsonbegin, jsonleak, jsonend };
