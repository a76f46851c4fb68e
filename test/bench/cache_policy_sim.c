/*-------------------------------------------------------------------------
 *
 * cache_policy_sim.c
 *	  Hit ratio of typed_cache's eviction policy against exact LRU on the
 *	  same Zipf(0.99) trace over 1M keys with room for 10% of them.
 *
 * The policy simulated is the one of src/cache_shard.c for entries of
 * equal size: CLOCK with a 2-bit usage counter (raised on each hit up to
 * 3, new entries start at 1), where a new entry takes the slot the hand
 * just freed.  Exact LRU is a doubly linked list.  Standalone; compiled and
 * run by bench_cache.sh.  Usage: cache_policy_sim [requests]
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  test/bench/cache_policy_sim.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NKEYS		1000000
#define CAPACITY	(NKEYS / 10)
#define ALPHA		0.99

static uint64_t rng_state = 88172645463325252ULL;

/*
 * rng
 *		xorshift64: fast, deterministic, good enough for a trace.
 */
static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/*
 * make_trace
 *		n requests drawn from Zipf(ALPHA) over NKEYS keys by inverting the
 *		cumulative distribution; ranks are scattered over key ids.
 */
static int *
make_trace(long n)
{
	double	   *cdf = malloc(sizeof(double) * NKEYS);
	int		   *trace = malloc(sizeof(int) * n);
	double		sum = 0;
	long		t;
	int			i;

	for (i = 0; i < NKEYS; i++)
	{
		sum += 1.0 / pow(i + 1, ALPHA);
		cdf[i] = sum;
	}
	for (t = 0; t < n; t++)
	{
		double		u = (rng() >> 11) * (1.0 / 9007199254740992.0) * sum;
		int			lo = 0,
					hi = NKEYS - 1;

		while (lo < hi)
		{
			int			mid = (lo + hi) / 2;

			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		trace[t] = (int) (((uint64_t) lo * 2654435761u) % NKEYS);
	}
	free(cdf);
	return trace;
}

/*
 * lru_hits
 *		Hits of exact LRU with CAPACITY entries.
 */
static long
lru_hits(const int *trace, long n)
{
	int		   *prev = malloc(sizeof(int) * NKEYS);
	int		   *next = malloc(sizeof(int) * NKEYS);
	char	   *in = calloc(NKEYS, 1);
	int			head = -1,
				tail = -1,
				count = 0;
	long		hits = 0,
				t;

	for (t = 0; t < n; t++)
	{
		int			k = trace[t];

		if (in[k])
		{
			hits++;
			if (head == k)
				continue;
			next[prev[k]] = next[k];
			if (next[k] >= 0)
				prev[next[k]] = prev[k];
			else
				tail = prev[k];
		}
		else
		{
			if (count == CAPACITY)
			{
				int			v = tail;

				tail = prev[v];
				next[tail] = -1;
				in[v] = 0;
				count--;
			}
			in[k] = 1;
			count++;
			if (tail < 0)
				tail = k;
		}
		prev[k] = -1;
		next[k] = head;
		if (head >= 0 && head != k)
			prev[head] = k;
		head = k;
	}
	free(prev);
	free(next);
	free(in);
	return hits;
}

/*
 * clock_hits
 *		Hits of CLOCK with a usage counter saturating at maxu, new entries
 *		starting at initu.
 */
static long
clock_hits(const int *trace, long n, int maxu, int initu)
{
	int		   *slot = malloc(sizeof(int) * CAPACITY);
	unsigned char *usage = calloc(CAPACITY, 1);
	int		   *pos = malloc(sizeof(int) * NKEYS);
	char	   *in = calloc(NKEYS, 1);
	int			hand = 0,
				used = 0;
	long		hits = 0,
				t;

	for (t = 0; t < n; t++)
	{
		int			k = trace[t];
		int			s;

		if (in[k])
		{
			hits++;
			if (usage[pos[k]] < maxu)
				usage[pos[k]]++;
			continue;
		}
		if (used < CAPACITY)
			s = used++;
		else
		{
			for (;;)
			{
				if (usage[hand] == 0)
				{
					s = hand;
					in[slot[s]] = 0;
					hand = (hand + 1) % CAPACITY;
					break;
				}
				usage[hand]--;
				hand = (hand + 1) % CAPACITY;
			}
		}
		slot[s] = k;
		pos[k] = s;
		usage[s] = initu;
		in[k] = 1;
	}
	free(slot);
	free(usage);
	free(pos);
	free(in);
	return hits;
}

int
main(int argc, char **argv)
{
	long		n = argc > 1 ? atol(argv[1]) : 10000000;
	int		   *trace = make_trace(n);
	long		lru = lru_hits(trace, n);
	long		clk = clock_hits(trace, n, 3, 1);
	long		clk1 = clock_hits(trace, n, 1, 1);

	printf("zipf_requests %ld\n", n);
	printf("hit_ratio_lru %.4f\n", (double) lru / n);
	printf("hit_ratio_typed_cache %.4f\n", (double) clk / n);
	printf("hit_ratio_clock_1bit %.4f\n", (double) clk1 / n);
	return 0;
}
