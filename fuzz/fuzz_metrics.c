/*
 * fuzz_metrics.c: what korio's metrics parse and escape. The first byte
 * picks the part, the rest is its input:
 *   0  a /proc/<pid>/stat line (metrics_proc_stat_parse())
 *   1  /proc/stat text (metrics_proc_btime_parse())
 *   2  a label value: escaped, it must hold no bare '"' or newline, and
 *      unescaping must give the value back
 *   3  HELP text: the same, no bare newline
 *   4  8 bytes of a double: its text must read back as the same double
 *   5  an observation against the bounds of a histogram: in its bucket
 */

#include <sys/types.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_escape(const char *, int);
static void	fuzz_double(const uint8_t *, size_t);
static void	fuzz_bucket(const uint8_t *, size_t);

/* Unescape b (label: \\ \" \n; help: \\ \n) and compare with s. */
static void
fuzz_escape(const char *s, int label)
{
	struct prom_buf	b;
	size_t		i, k;
	char		*out;

	prom_buf_init(&b);
	if (label)
		prom_escape_label(&b, s);
	else
		prom_escape_help(&b, s);
	if (b.failed)
		abort();
	if ((out = malloc(b.len + 1)) == NULL)
		abort();

	for (i = k = 0; i < b.len; i++) {
		if (b.data[i] == '\n' || (label && b.data[i] == '"'))
			abort();
		if (b.data[i] != '\\') {
			out[k++] = b.data[i];
			continue;
		}
		if (++i == b.len)
			abort();
		if (b.data[i] == 'n')
			out[k++] = '\n';
		else if (b.data[i] == '\\' || (label && b.data[i] == '"'))
			out[k++] = b.data[i];
		else
			abort();
	}
	out[k] = '\0';
	if (strcmp(out, s) != 0)
		abort();

	free(out);
	prom_buf_free(&b);
}

static void
fuzz_double(const uint8_t *data, size_t len)
{
	struct prom_buf	b;
	double		v, back;

	if (len < sizeof(v))
		return;
	memcpy(&v, data, sizeof(v));

	prom_buf_init(&b);
	prom_double(&b, v);
	if (b.failed || b.data == NULL)
		abort();
	if (isnan(v)) {
		if (strcmp(b.data, "NaN") != 0)
			abort();
	} else if (isinf(v)) {
		if (strcmp(b.data, v > 0 ? "+Inf" : "-Inf") != 0)
			abort();
	} else {
		back = strtod(b.data, NULL);
		if (back != v)
			abort();
	}
	prom_buf_free(&b);
}

static void
fuzz_bucket(const uint8_t *data, size_t len)
{
	const struct prom_hist_def	*defs[3] = {
		&metrics_http_buckets, &metrics_store_buckets,
		&metrics_fanout_buckets
	};
	const struct prom_hist_def	*def;
	uint64_t			 v;
	size_t				 i;

	if (len < 1 + sizeof(v))
		return;
	def = defs[data[0] % 3];
	memcpy(&v, data + 1, sizeof(v));

	i = prom_bucket(def, v);
	if (i > def->nb)
		abort();
	if (i < def->nb && v > def->bounds[i])
		abort();
	if (i > 0 && v <= def->bounds[i - 1])
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct metrics_pstat	ps;
	uint64_t		bt;
	char			*s;

	if (len == 0)
		return (0);

	switch (data[0] % 6) {
	case 0:
		(void)metrics_proc_stat_parse((const char *)data + 1, len - 1,
		    &ps);
		break;
	case 1:
		(void)metrics_proc_btime_parse((const char *)data + 1, len - 1,
		    &bt);
		break;
	case 2:
	case 3:
		if ((s = malloc(len)) == NULL)
			return (0);
		memcpy(s, data + 1, len - 1);
		s[len - 1] = '\0';
		fuzz_escape(s, data[0] % 6 == 2);
		free(s);
		break;
	case 4:
		fuzz_double(data + 1, len - 1);
		break;
	default:
		fuzz_bucket(data + 1, len - 1);
		break;
	}

	return (0);
}
