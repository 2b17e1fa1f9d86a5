/*
 * Prometheus's text exposition format, version 0.0.4, as Prometheus's
 * documentation ("Exposition formats") gives it:
 *
 *   # HELP <name> <text>	text with \ and newline escaped as \\ and \n
 *   # TYPE <name> <type>	counter, gauge, histogram, summary or untyped
 *   <name>{<label>="<value>",...} <value>
 *
 * one line each, ending in '\n'; a family's lines together, its HELP and
 * TYPE first; label values with \, " and newline escaped as \\, \" and
 * \n, UTF-8 otherwise as it is; values as Go's ParseFloat reads them
 * (NaN, +Inf, -Inf; here the shortest text that reads back as the same
 * double). Metric names are [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 * [a-zA-Z_][a-zA-Z0-9_]*. A histogram <name> is its lines
 * <name>_bucket{...,le="<bound>"} with cumulative counts, bounds
 * ascending and the last le="+Inf", then <name>_sum and <name>_count
 * (the +Inf bucket's count).
 *
 * Histograms are kept in integer units (microseconds) so that processes
 * can add to them with atomic operations: a struct prom_hist_def says
 * how many units make the family's base unit (seconds), and the bounds
 * and the sum are divided by it on the way out.
 */

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/prom.h"

static int	prom_grow(struct prom_buf *, size_t);
static void	prom_series(struct prom_buf *, const char *, const char *,
		    const struct prom_label *, size_t, const char *);
static void	prom_fmt_double(char [32], double);

void
prom_buf_init(struct prom_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
prom_buf_free(struct prom_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Room for n more bytes and a NUL; 0 once memory ran out. */
static int
prom_grow(struct prom_buf *b, size_t n)
{
	size_t		cap;
	char		*p;

	if (b->failed)
		return (0);
	if (n < b->cap && b->len < b->cap - n)
		return (1);

	if (n > SIZE_MAX / 4 - b->len) {
		b->failed = 1;
		return (0);
	}
	cap = b->cap > 0 ? b->cap : 4096;
	while (cap - b->len <= n)
		cap *= 2;
	if ((p = realloc(b->data, cap)) == NULL) {
		b->failed = 1;
		return (0);
	}
	b->data = p;
	b->cap = cap;

	return (1);
}

void
prom_append(struct prom_buf *b, const void *d, size_t n)
{
	if (!prom_grow(b, n))
		return;
	memcpy(b->data + b->len, d, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
prom_puts(struct prom_buf *b, const char *s)
{
	prom_append(b, s, strlen(s));
}

/* A family's HELP and TYPE lines. */
void
prom_family(struct prom_buf *b, const char *name, const char *type,
    const char *help)
{
	prom_puts(b, "# HELP ");
	prom_puts(b, name);
	prom_puts(b, " ");
	prom_escape_help(b, help);
	prom_puts(b, "\n# TYPE ");
	prom_puts(b, name);
	prom_puts(b, " ");
	prom_puts(b, type);
	prom_puts(b, "\n");
}

/* name and suffix, then the labels (le last, if not NULL), a space. */
static void
prom_series(struct prom_buf *b, const char *name, const char *suffix,
    const struct prom_label *l, size_t nl, const char *le)
{
	size_t		i;

	prom_puts(b, name);
	prom_puts(b, suffix);
	if (nl > 0 || le != NULL) {
		prom_puts(b, "{");
		for (i = 0; i < nl; i++) {
			if (i > 0)
				prom_puts(b, ",");
			prom_puts(b, l[i].name);
			prom_puts(b, "=\"");
			prom_escape_label(b, l[i].value);
			prom_puts(b, "\"");
		}
		if (le != NULL) {
			prom_puts(b, nl > 0 ? ",le=\"" : "le=\"");
			prom_puts(b, le);
			prom_puts(b, "\"");
		}
		prom_puts(b, "}");
	}
	prom_puts(b, " ");
}

void
prom_sample(struct prom_buf *b, const char *name, const struct prom_label *l,
    size_t nl, double v)
{
	prom_series(b, name, "", l, nl, NULL);
	prom_double(b, v);
	prom_puts(b, "\n");
}

/* A sample with an integer value, exact however large. */
void
prom_sample_u64(struct prom_buf *b, const char *name,
    const struct prom_label *l, size_t nl, uint64_t v)
{
	char	num[24];

	(void)snprintf(num, sizeof(num), "%" PRIu64, v);
	prom_series(b, name, "", l, nl, NULL);
	prom_puts(b, num);
	prom_puts(b, "\n");
}

/*
 * A histogram's lines, labels l and def's buckets: counts (def->nb + 1,
 * not cumulative) and sum are in def's units.
 */
void
prom_histogram(struct prom_buf *b, const char *name,
    const struct prom_label *l, size_t nl, const struct prom_hist_def *def,
    const uint64_t *counts, uint64_t sum)
{
	char		le[32], num[24];
	uint64_t	total;
	size_t		i;

	total = 0;
	for (i = 0; i <= def->nb; i++) {
		total += counts[i];
		if (i < def->nb)
			prom_fmt_double(le, (double)def->bounds[i] /
			    def->per_unit);
		else
			(void)snprintf(le, sizeof(le), "+Inf");
		(void)snprintf(num, sizeof(num), "%" PRIu64, total);
		prom_series(b, name, "_bucket", l, nl, le);
		prom_puts(b, num);
		prom_puts(b, "\n");
	}

	prom_series(b, name, "_sum", l, nl, NULL);
	prom_double(b, (double)sum / def->per_unit);
	prom_puts(b, "\n");

	(void)snprintf(num, sizeof(num), "%" PRIu64, total);
	prom_series(b, name, "_count", l, nl, NULL);
	prom_puts(b, num);
	prom_puts(b, "\n");
}

/*
 * The bucket of an observation v (in def's units): the first whose bound
 * is at least v ("less than or equal", as le says), def->nb for +Inf.
 */
size_t
prom_bucket(const struct prom_hist_def *def, uint64_t v)
{
	size_t		lo, hi, mid;

	lo = 0;
	hi = def->nb;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v <= def->bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}

	return (lo);
}

/* A label value: \ " and newline escaped; NULL is empty. */
void
prom_escape_label(struct prom_buf *b, const char *s)
{
	const char	*p;

	for (p = s != NULL ? s : ""; *p != '\0'; p++) {
		if (*p == '\\')
			prom_puts(b, "\\\\");
		else if (*p == '"')
			prom_puts(b, "\\\"");
		else if (*p == '\n')
			prom_puts(b, "\\n");
		else
			prom_append(b, p, 1);
	}
}

/* HELP text: \ and newline escaped. */
void
prom_escape_help(struct prom_buf *b, const char *s)
{
	const char	*p;

	for (p = s; *p != '\0'; p++) {
		if (*p == '\\')
			prom_puts(b, "\\\\");
		else if (*p == '\n')
			prom_puts(b, "\\n");
		else
			prom_append(b, p, 1);
	}
}

void
prom_double(struct prom_buf *b, double v)
{
	char	num[32];

	prom_fmt_double(num, v);
	prom_puts(b, num);
}

/*
 * The shortest text that reads back as v, as Go's FormatFloat(v, 'g', -1)
 * writes it: plain decimals from 1e-4 to below 1e21 ("0.0005", "10",
 * "1796221014.92"), an exponent outside; NaN, +Inf, -Inf.
 */
static void
prom_fmt_double(char out[32], double v)
{
	double	mag;
	int	prec;

	if (isnan(v)) {
		(void)snprintf(out, 32, "NaN");
		return;
	}
	if (isinf(v)) {
		(void)snprintf(out, 32, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}

	mag = v < 0 ? -v : v;
	if (mag == 0 || (mag >= 1e-4 && mag < 1e21)) {
		for (prec = 0; prec <= 24; prec++) {
			if (snprintf(out, 32, "%.*f", prec, v) >= 32)
				break;
			if (strtod(out, NULL) == v)
				return;
		}
	}

	for (prec = 1; prec < 17; prec++) {
		(void)snprintf(out, 32, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
	(void)snprintf(out, 32, "%.17g", v);
}

/* A metric name: [a-zA-Z_:][a-zA-Z0-9_:]*. */
int
prom_name_valid(const char *s)
{
	size_t		i;

	for (i = 0; s[i] != '\0'; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' || s[i] == ':')
			continue;
		if (i > 0 && s[i] >= '0' && s[i] <= '9')
			continue;
		return (0);
	}

	return (i > 0 && i <= PROM_NAME_MAX);
}

/* A label name: [a-zA-Z_][a-zA-Z0-9_]*, not Prometheus's own "__". */
int
prom_label_valid(const char *s)
{
	size_t		i;

	if (s[0] == '_' && s[1] == '_')
		return (0);
	for (i = 0; s[i] != '\0'; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_')
			continue;
		if (i > 0 && s[i] >= '0' && s[i] <= '9')
			continue;
		return (0);
	}

	return (i > 0);
}
