/* stubs_order.h: what stubs_order.c records, for test_order.c. */

#ifndef STUBS_ORDER_H
#define STUBS_ORDER_H

#include <sys/types.h>

#include "sio.h"

#define STUB_LOG_MAX	64

struct stub_delivery {
	u_int8_t	type;
	int		local;
	size_t		len;
	char		data[32];
};

extern u_int64_t		stub_now;
extern int			stub_warnings;
extern struct stub_delivery	stub_log[STUB_LOG_MAX];
extern size_t			stub_nlog;
extern sio_bus_fn		stub_bus[256];
extern size_t			stub_logged;
extern void			(*stub_hook)(void);

#endif /* !STUBS_ORDER_H */
