/*
 * metrics/prom.h: Prometheus's text exposition format, version 0.0.4
 * (pure: libc only). Text collects in a struct prom_buf; each family is
 * written as prom_family() (its HELP and TYPE lines) followed by its
 * samples, all of a family together. See prom.c.
 */

#ifndef KORIO_PROM_H
#define KORIO_PROM_H

#include <stddef.h>
#include <stdint.h>

#define PROM_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* The longest metric name, suffix included, prom.c writes. */
#define PROM_NAME_MAX		128
/* The most labels of one sample, le included. */
#define PROM_LABELS_MAX		8

/* Growing text; failed is set (and text stops) when memory runs out. */
struct prom_buf {
	char		*data;
	size_t		 len;
	size_t		 cap;
	int		 failed;
};

struct prom_label {
	const char	*name;
	const char	*value;
};

/*
 * A histogram's shape: nb upper bounds in units (microseconds, say),
 * ascending, and how many units make one of the family's base unit
 * (1e6 for seconds). Its counts are nb + 1, one per bucket, not
 * cumulative: counts[nb] holds what is above every bound.
 */
struct prom_hist_def {
	const uint64_t	*bounds;
	size_t		 nb;
	double		 per_unit;
};

/* prom.c */
void	prom_buf_init(struct prom_buf *);
void	prom_buf_free(struct prom_buf *);
void	prom_append(struct prom_buf *, const void *, size_t);
void	prom_puts(struct prom_buf *, const char *);
void	prom_family(struct prom_buf *, const char *, const char *,
	    const char *);
void	prom_sample(struct prom_buf *, const char *,
	    const struct prom_label *, size_t, double);
void	prom_sample_u64(struct prom_buf *, const char *,
	    const struct prom_label *, size_t, uint64_t);
void	prom_histogram(struct prom_buf *, const char *,
	    const struct prom_label *, size_t, const struct prom_hist_def *,
	    const uint64_t *, uint64_t);
size_t	prom_bucket(const struct prom_hist_def *, uint64_t);
void	prom_escape_label(struct prom_buf *, const char *);
void	prom_escape_help(struct prom_buf *, const char *);
void	prom_double(struct prom_buf *, double);
int	prom_name_valid(const char *);
int	prom_label_valid(const char *);

#endif /* !KORIO_PROM_H */
