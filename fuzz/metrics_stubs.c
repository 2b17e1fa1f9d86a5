/*
 * metrics_stubs.c: link-time stand-in for what metrics_render.c calls in
 * the store (the fuzz target links the metrics' pure files alone).
 */

#include "metrics/metrics.h"

const char *
store_call_name(enum store_call op)
{
	(void)op;
	return ("op");
}
