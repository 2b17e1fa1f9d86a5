/*
 * fuzz_email.c: client bytes (signup, login and PATCH /auth/me emails)
 * through email_normalize(): no crash, out within bounds and NUL-free,
 * and a normalized email normalizes to itself (one account per address).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/email.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char			a[EMAIL_MAX + 1], b[EMAIL_MAX + 1];
	uint32_t		bad;
	size_t			n;
	enum email_result	r;

	r = email_normalize((const char *)data, len, a, &bad);
	n = strlen(a);
	if (r != EMAIL_OK) {
		if (n != 0)
			abort();
		return (0);
	}
	if (n == 0 || n > EMAIL_MAX || strchr(a, '@') == NULL)
		abort();

	if (email_normalize(a, n, b, &bad) != EMAIL_OK || strcmp(a, b))
		abort();

	return (0);
}
