/*
 * ObjectIds (see store.h): new ones from a timestamp, 5 random bytes per
 * process and a counter (store_oid_new), the check of the 24-hex form
 * (store_oid_valid), and the draw of the random part (store_oid_seed,
 * which store_global_init in store.c calls again after each fork, through
 * store_int.h). store_schema.c checks and lowercases ids with
 * store_oid_valid.
 */

#include <sys/types.h>
#include <sys/random.h>

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_int.h"

static uint8_t				store_oid_rand[5];
static atomic_uint			store_oid_counter;
static atomic_int			store_oid_seeded;

void
store_oid_new(char out[STORE_OID_LEN + 1])
{
	static const char	hex[] = "0123456789abcdef";
	uint8_t			b[12];
	uint32_t		secs, cnt;
	int			i;

	if (!atomic_load(&store_oid_seeded))
		store_oid_seed();

	secs = (uint32_t)time(NULL);
	cnt = atomic_fetch_add(&store_oid_counter, 1);

	b[0] = (uint8_t)(secs >> 24);
	b[1] = (uint8_t)(secs >> 16);
	b[2] = (uint8_t)(secs >> 8);
	b[3] = (uint8_t)secs;
	memcpy(&b[4], store_oid_rand, sizeof(store_oid_rand));
	b[9] = (uint8_t)(cnt >> 16);
	b[10] = (uint8_t)(cnt >> 8);
	b[11] = (uint8_t)cnt;

	for (i = 0; i < 12; i++) {
		out[i * 2] = hex[b[i] >> 4];
		out[i * 2 + 1] = hex[b[i] & 0x0f];
	}
	out[STORE_OID_LEN] = '\0';
}

int
store_oid_valid(const char *s)
{
	size_t		i;

	if (s == NULL)
		return (0);

	for (i = 0; i < STORE_OID_LEN; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return (0);
	}

	return (s[STORE_OID_LEN] == '\0');
}

/*
 * Draw the 5 per-process random bytes and a random counter start. Racing
 * first calls may each draw: any of the draws is as good as another.
 */
void
store_oid_seed(void)
{
	uint8_t		buf[8];
	size_t		off;
	ssize_t		n;

	for (off = 0; off < sizeof(buf); off += (size_t)n) {
		n = getrandom(buf + off, sizeof(buf) - off, 0);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			/* No entropy source: fall back to time and pid. */
			store_log(STORE_LOG_WARNING, "getrandom failed: %s",
			    strerror(errno));
			n = (ssize_t)(sizeof(buf) - off);
			memset(buf + off, 0, (size_t)n);
			buf[0] ^= (uint8_t)getpid();
			buf[7] ^= (uint8_t)time(NULL);
		}
	}

	memcpy(store_oid_rand, buf, sizeof(store_oid_rand));
	atomic_store(&store_oid_counter,
	    (unsigned int)buf[5] << 16 | (unsigned int)buf[6] << 8 | buf[7]);
	atomic_store(&store_oid_seeded, 1);
}
