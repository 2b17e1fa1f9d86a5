/*
 * fuzz_netaddr.c: X-Forwarded-For values (client bytes) and address
 * lists through netaddr.c.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct netaddr_list	trusted, l;
	struct netaddr		a;
	char			*s, buf[NETADDR_STRLEN];

	if ((s = malloc(len + 1)) == NULL)
		return (0);
	memcpy(s, data, len);
	s[len] = '\0';

	(void)netaddr_list_parse("127.0.0.1, 10.0.0.0/8, ::1", &trusted);
	if (netaddr_forwarded(s, &trusted, &a))
		netaddr_str(&a, buf);
	if (netaddr_parse((const char *)data, len, &a))
		(void)netaddr_list_match(&trusted, &a);
	if (netaddr_list_parse(s, &l) && l.n > 0)
		(void)netaddr_list_match(&l, &l.item[0]);

	free(s);
	return (0);
}
