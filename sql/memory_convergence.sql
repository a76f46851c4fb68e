--
-- memory_convergence: typed_cache's own hot functions do not leak.
-- project, put and get (jsonb and typed) each run 10 measured iterations
-- of 10k calls after 2 warm-up iterations; all must converge within the
-- default tolerance (1 % of the memory allocated after the warm-up).
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS typed_cache;
RESET client_min_messages;

CREATE TYPE mem_person AS (id int, name text, tags text[], score numeric);

-- project
SELECT count(*) AS iterations, min(verdict) AS verdict,
	   count(DISTINCT verdict) AS verdicts
  FROM typed_cache.check_convergence($$
	SELECT count(typed_cache.project(
			 jsonb_build_object('id', g, 'name', 'n' || g,
								'tags', jsonb_build_array('a', 'b'),
								'score', g * 1.5),
			 NULL::mem_person))
	  FROM generate_series(1, 10000) g$$, 10, 2);

-- put, over 1000 keys that are overwritten again and again
SELECT count(*) AS iterations, min(verdict) AS verdict,
	   count(DISTINCT verdict) AS verdicts
  FROM typed_cache.check_convergence($$
	SELECT count(typed_cache.put('mem:' || (g % 1000),
								 jsonb_build_object('id', g, 'name', 'n' || g,
													'tags', jsonb_build_array('a', 'b'),
													'score', g * 1.5)))
	  FROM generate_series(1, 10000) g$$, 10, 2);

-- get as jsonb, hits and misses
SELECT count(*) AS iterations, min(verdict) AS verdict,
	   count(DISTINCT verdict) AS verdicts
  FROM typed_cache.check_convergence($$
	SELECT count(typed_cache.get('mem:' || (g % 2000)))
	  FROM generate_series(1, 10000) g$$, 10, 2);

-- get projected into a composite type
SELECT count(*) AS iterations, min(verdict) AS verdict,
	   count(DISTINCT verdict) AS verdicts
  FROM typed_cache.check_convergence($$
	SELECT count(typed_cache.get('mem:' || (g % 1000), NULL::mem_person))
	  FROM generate_series(1, 10000) g$$, 10, 2);

-- the keys were really there: the checks measured real work
SELECT (typed_cache.get('mem:7', NULL::mem_person)).id % 1000 AS id_mod;

SELECT typed_cache.clear() >= 1000 AS cleared;
DROP TYPE mem_person;
