/*
 * ISO 8601 dates for the store (see store.h): the current time
 * (store_now_iso), parsing any offset form to milliseconds since the epoch
 * (store_iso_parse) and writing the canonical UTC form with milliseconds
 * (store_iso_format). store_schema.c normalizes date fields with them and
 * the MongoDB backend converts to and from BSON Date with them.
 *
 * Dates are handled with proleptic Gregorian day arithmetic rather than
 * timegm()/gmtime_r(), so any instant from year 0000 to 9999 converts
 * exactly and without locale or time zone state.
 */

#include <ctype.h>
#include <stdio.h>
#include <time.h>

#include "store/store.h"

#define STORE_MS_PER_DAY	86400000LL

static int	store_digits(const char *, int, int *);
static int	store_days_in_month(int, int);
static int64_t	store_days_from_civil(int64_t, int, int);
static void	store_civil_from_days(int64_t, int64_t *, int *, int *);

void
store_now_iso(char out[STORE_ISO_LEN])
{
	struct timespec		ts;
	int64_t			ms;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;

	if (!store_iso_format(ms, out))
		(void)snprintf(out, STORE_ISO_LEN, "1970-01-01T00:00:00.000Z");
}

int
store_iso_parse(const char *s, int64_t *ms)
{
	int		y, mo, d, h, mi, sec, oh, om, frac, ndig, off;
	const char	*p;

	if (s == NULL || ms == NULL)
		return (0);

	if (!store_digits(s, 4, &y) || s[4] != '-' ||
	    !store_digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !store_digits(s + 8, 2, &d) || s[10] != 'T' ||
	    !store_digits(s + 11, 2, &h) || s[13] != ':' ||
	    !store_digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !store_digits(s + 17, 2, &sec))
		return (0);

	if (mo < 1 || mo > 12 || d < 1 || d > store_days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 59)
		return (0);

	p = s + 19;
	frac = 0;
	if (*p == '.') {
		for (p++, ndig = 0; isdigit((unsigned char)*p); p++, ndig++) {
			if (ndig < 3)
				frac = frac * 10 + (*p - '0');
		}
		if (ndig == 0 || ndig > 9)
			return (0);
		for (; ndig < 3; ndig++)
			frac *= 10;
	}

	off = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (!store_digits(p + 1, 2, &oh) || p[3] != ':' ||
		    !store_digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return (0);
		off = (oh * 60 + om) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return (0);
	}

	if (*p != '\0')
		return (0);

	*ms = store_days_from_civil(y, mo, d) * STORE_MS_PER_DAY +
	    ((int64_t)h * 3600 + mi * 60 + sec - (int64_t)off * 60) * 1000 +
	    frac;

	return (1);
}

int
store_iso_format(int64_t ms, char out[STORE_ISO_LEN])
{
	int64_t		days, rem, y;
	int		m, d;

	/* 0000-01-01 .. 9999-12-31, which also keeps the math in range. */
	if (ms < -62167219200000LL || ms > 253402300799999LL)
		return (0);

	days = ms / STORE_MS_PER_DAY;
	rem = ms % STORE_MS_PER_DAY;
	if (rem < 0) {
		rem += STORE_MS_PER_DAY;
		days--;
	}

	store_civil_from_days(days, &y, &m, &d);

	/* The modulos only tell the compiler the ranges checked above. */
	(void)snprintf(out, STORE_ISO_LEN,
	    "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned int)y % 10000,
	    (unsigned int)m % 100, (unsigned int)d % 100,
	    (unsigned int)(rem / 3600000) % 100,
	    (unsigned int)(rem / 60000 % 60), (unsigned int)(rem / 1000 % 60),
	    (unsigned int)(rem % 1000));

	return (1);
}

static int
store_digits(const char *s, int n, int *out)
{
	int		i;

	*out = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return (0);
		*out = *out * 10 + (s[i] - '0');
	}

	return (1);
}

static int
store_days_in_month(int y, int m)
{
	static const int	days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return (29);

	return (days[m - 1]);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
store_days_from_civil(int64_t y, int m, int d)
{
	int64_t		era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (era * 146097 + doe - 719468);
}

static void
store_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}
