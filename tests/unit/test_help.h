/*
 * test_help.h: minimal unit test support (after valkey's
 * src/unit/test_help.h). A test is `static int test_x(void)` returning
 * 0 on success; TEST_ASSERT() prints file:line and fails the test
 * (returns 1 at once). main() runs tests with TEST_RUN() and ends with
 * `return (TEST_REPORT("test_name"));`, which prints the program name,
 * then exactly "N passed, M failed", and yields the exit status.
 */

#ifndef TEST_HELP_H
#define TEST_HELP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	test_passed;
static int	test_failed;

#define TEST_ASSERT(cond) do {						\
	if (!(cond)) {							\
		printf("%s:%d: assertion failed: %s\n",			\
		    __FILE__, __LINE__, #cond);				\
		return (1);						\
	}								\
} while (0)

#define TEST_RUN(fn) do {						\
	if ((fn)() == 0)						\
		test_passed++;						\
	else {								\
		printf("FAIL %s\n", #fn);				\
		test_failed++;						\
	}								\
} while (0)

#define TEST_REPORT(name)						\
	(printf("%s\n%d passed, %d failed\n", (name), test_passed,	\
	    test_failed), test_failed == 0 ? 0 : 1)

/* Compare a byte buffer with a C string literal. */
#define TEST_MEMEQ(buf, len, str)					\
	((len) == strlen(str) &&					\
	    ((len) == 0 || memcmp((buf), (str), (len)) == 0))

#endif /* !TEST_HELP_H */
