--
-- test/pgtap/project.sql
--	  pgTAP: the typed projection API's contract -- signatures, return
--	  types, volatility, strictness, parallel safety, privileges -- and the
--	  SQLSTATE and message of the errors a user meets first.
--
-- Run by scripts/test.sh with pg_prove in a pg_virtualenv cluster
-- (database postgres, pgtap already created).  Everything happens in one
-- transaction that is rolled back.
--
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off

BEGIN;

CREATE EXTENSION typed_cache;

SELECT plan(65);

-- ---------------------------------------------------------------------
-- Signatures and return types
-- ---------------------------------------------------------------------
SELECT has_schema('typed_cache');
SELECT has_function('typed_cache', 'project', ARRAY['jsonb', 'anyelement']);
SELECT has_function('typed_cache', 'project_set', ARRAY['jsonb', 'anyelement']);
SELECT has_function('typed_cache', 'register', ARRAY['regtype', 'jsonb']);
SELECT has_function('typed_cache', 'unregister', ARRAY['regtype']);

SELECT function_returns('typed_cache', 'project', ARRAY['jsonb', 'anyelement'],
						'anyelement');
SELECT function_returns('typed_cache', 'project_set',
						ARRAY['jsonb', 'anyelement'], 'setof anyelement');
SELECT function_returns('typed_cache', 'register', ARRAY['regtype', 'jsonb'],
						'void');
SELECT function_returns('typed_cache', 'unregister', ARRAY['regtype'],
						'boolean');

SELECT function_lang_is('typed_cache', 'project', ARRAY['jsonb', 'anyelement'], 'c');
SELECT function_lang_is('typed_cache', 'project_set', ARRAY['jsonb', 'anyelement'], 'c');
SELECT function_lang_is('typed_cache', 'register', ARRAY['regtype', 'jsonb'], 'c');
SELECT function_lang_is('typed_cache', 'unregister', ARRAY['regtype'], 'c');

-- register(target, options DEFAULT '{}'): the one-argument call works
SELECT is((SELECT pronargdefaults::int FROM pg_proc
			WHERE oid = 'typed_cache.register(regtype, jsonb)'::regprocedure),
		  1, 'register() has one default argument (options)');
SELECT is((SELECT pg_get_function_arguments(
					'typed_cache.register(regtype, jsonb)'::regprocedure)),
		  'target regtype, options jsonb DEFAULT ''{}''::jsonb',
		  'register() arguments are named target and options');
SELECT is((SELECT pg_get_function_arguments(
					'typed_cache.project(jsonb, anyelement)'::regprocedure)),
		  'doc jsonb, target anyelement',
		  'project() arguments are named doc and target');
SELECT is((SELECT pg_get_function_arguments(
					'typed_cache.project_set(jsonb, anyelement)'::regprocedure)),
		  'docs jsonb, target anyelement',
		  'project_set() arguments are named docs and target');
SELECT is((SELECT proretset FROM pg_proc
			WHERE oid = 'typed_cache.project_set(jsonb, anyelement)'::regprocedure),
		  true, 'project_set() returns a set');

-- ---------------------------------------------------------------------
-- Volatility, strictness, parallel safety
-- ---------------------------------------------------------------------
-- project() reads the registrations table and the catalogs: STABLE.
SELECT volatility_is('typed_cache', 'project', ARRAY['jsonb', 'anyelement'], 'stable');
SELECT volatility_is('typed_cache', 'project_set', ARRAY['jsonb', 'anyelement'], 'stable');
SELECT volatility_is('typed_cache', 'register', ARRAY['regtype', 'jsonb'], 'volatile');
SELECT volatility_is('typed_cache', 'unregister', ARRAY['regtype'], 'volatile');

-- project(NULL, NULL::t) must still see the target type: not STRICT.
-- register() raises a clear error for NULL arguments itself.
SELECT isnt_strict('typed_cache', 'project', ARRAY['jsonb', 'anyelement']);
SELECT isnt_strict('typed_cache', 'project_set', ARRAY['jsonb', 'anyelement']);
SELECT isnt_strict('typed_cache', 'register', ARRAY['regtype', 'jsonb']);
SELECT is_strict('typed_cache', 'unregister', ARRAY['regtype']);

SELECT is((SELECT proparallel::text FROM pg_proc
			WHERE oid = 'typed_cache.project(jsonb, anyelement)'::regprocedure),
		  's', 'project() is PARALLEL SAFE');
SELECT is((SELECT proparallel::text FROM pg_proc
			WHERE oid = 'typed_cache.project_set(jsonb, anyelement)'::regprocedure),
		  's', 'project_set() is PARALLEL SAFE');
SELECT is((SELECT proparallel::text FROM pg_proc
			WHERE oid = 'typed_cache.register(regtype, jsonb)'::regprocedure),
		  'u', 'register() is PARALLEL UNSAFE (it writes)');
SELECT is((SELECT proparallel::text FROM pg_proc
			WHERE oid = 'typed_cache.unregister(regtype)'::regprocedure),
		  'u', 'unregister() is PARALLEL UNSAFE (it writes)');

-- ---------------------------------------------------------------------
-- Objects and privileges
-- ---------------------------------------------------------------------
SELECT has_view('typed_cache', 'registered_types', 'view typed_cache.registered_types exists');
SELECT columns_are('typed_cache', 'registered_types',
				   ARRAY['type', 'options', 'registered_at', 'registered_by']);
SELECT col_type_is('typed_cache', 'registered_types', 'type', 'regtype',
				   'registered_types.type is a regtype');
SELECT col_type_is('typed_cache', 'registered_types', 'options', 'jsonb',
				   'registered_types.options is a jsonb');
SELECT has_table('typed_cache', 'registrations', 'table typed_cache.registrations exists');
SELECT col_is_pk('typed_cache', 'registrations', 'type_oid',
				 'registrations has one row per type');
SELECT ok((SELECT 'typed_cache.registrations'::regclass::oid = ANY (extconfig)
			 FROM pg_extension WHERE extname = 'typed_cache'),
		  'pg_dump keeps the registrations (pg_extension_config_dump)');

-- Everybody may use the schema and the projection API.
SELECT schema_privs_are('typed_cache', 'public', ARRAY['USAGE'],
						'PUBLIC has USAGE on schema typed_cache');
SELECT function_privs_are('typed_cache', 'project', ARRAY['jsonb', 'anyelement'],
						  'public', ARRAY['EXECUTE']);
SELECT function_privs_are('typed_cache', 'project_set', ARRAY['jsonb', 'anyelement'],
						  'public', ARRAY['EXECUTE']);
-- register()/unregister() are open to PUBLIC: they check inside that the
-- caller owns the type (tested below).
SELECT function_privs_are('typed_cache', 'register', ARRAY['regtype', 'jsonb'],
						  'public', ARRAY['EXECUTE']);
SELECT function_privs_are('typed_cache', 'unregister', ARRAY['regtype'],
						  'public', ARRAY['EXECUTE']);
-- The table is changed through register()/unregister() only.
SELECT table_privs_are('typed_cache', 'registrations', 'public', ARRAY['SELECT'],
					   'PUBLIC may only SELECT from typed_cache.registrations');
SELECT table_privs_are('typed_cache', 'registered_types', 'public', ARRAY['SELECT'],
					   'PUBLIC may only SELECT from typed_cache.registered_types');

-- ---------------------------------------------------------------------
-- Behaviour and errors
-- ---------------------------------------------------------------------
CREATE TYPE public.tc_pgtap_t AS (id int, name text);
CREATE ROLE tc_pgtap_other NOLOGIN;

SELECT is(typed_cache.project('{"id": 1, "name": "a", "x": 2}', NULL::public.tc_pgtap_t),
		  ROW(1, 'a')::public.tc_pgtap_t, 'project() projects an object');
SELECT is((SELECT count(*)::int FROM typed_cache.project_set(
				'[{"id": 1}, {"id": 2}, {"id": 3}]', NULL::public.tc_pgtap_t)),
		  3, 'project_set() returns one row per element');
SELECT lives_ok($$SELECT typed_cache.register('public.tc_pgtap_t')$$,
				'the owner registers a type with default options');
SELECT results_eq($$SELECT type::text, options FROM typed_cache.registered_types$$,
				  $$VALUES ('tc_pgtap_t', '{}'::jsonb)$$,
				  'registered_types shows the registration');

-- A role that does not own the type can neither register nor unregister
-- it, and the registration stays.
SELECT throws_ok($$SET LOCAL ROLE tc_pgtap_other;
				   SELECT typed_cache.register('public.tc_pgtap_t', '{"coerce": true}')$$,
				 '42501', 'must be owner of type tc_pgtap_t',
				 'register() by a non-owner: 42501');
SELECT throws_ok($$SET LOCAL ROLE tc_pgtap_other;
				   SELECT typed_cache.unregister('public.tc_pgtap_t')$$,
				 '42501', 'must be owner of type tc_pgtap_t',
				 'unregister() by a non-owner: 42501');
SELECT throws_ok($$SET LOCAL ROLE tc_pgtap_other;
				   INSERT INTO typed_cache.registrations (type_oid, options)
				   VALUES ('public.tc_pgtap_t', '{}')$$,
				 '42501', NULL,
				 'PUBLIC cannot write typed_cache.registrations directly');
SELECT is(current_user::text, session_user::text, 'the role switches were undone');
SELECT results_eq($$SELECT options FROM typed_cache.registered_types$$,
				  $$VALUES ('{}'::jsonb)$$,
				  'the failed calls left the registration unchanged');
SELECT lives_ok($$SET LOCAL ROLE tc_pgtap_other;
				  SELECT typed_cache.project('{"id": 5}', NULL::public.tc_pgtap_t);
				  RESET ROLE$$,
				'any role may project');

SELECT throws_ok($$SELECT typed_cache.register('public.tc_pgtap_t', '{"bogus": 1}')$$,
				 '22023',
				 'invalid typed_cache options for type tc_pgtap_t: unknown option "bogus"',
				 'an unknown option: 22023');
SELECT throws_ok($$SELECT typed_cache.register('int4')$$,
				 '42804', 'type integer is not a composite type',
				 'register() of a non-composite type: 42804');
SELECT throws_ok($$SELECT typed_cache.project('{"id": "1"}', NULL::public.tc_pgtap_t)$$,
				 '42804', 'JSON string cannot be projected into type integer',
				 'a string into an int field: 42804');
SELECT throws_ok($$SELECT typed_cache.project('{"id": 1.5}', NULL::public.tc_pgtap_t)$$,
				 '42804', NULL, 'a fraction into an int field: 42804');
SELECT throws_ok($$SELECT typed_cache.project('{"id": 2147483648}', NULL::public.tc_pgtap_t)$$,
				 '22003', NULL, 'an out-of-range int: 22003');
SELECT throws_ok($$SELECT typed_cache.project('[1]', NULL::public.tc_pgtap_t)$$,
				 '42804', 'JSON array cannot be projected into type tc_pgtap_t',
				 'a document that is not an object: 42804');
SELECT throws_ok($$SELECT typed_cache.project('{}', NULL::int)$$,
				 '42804', 'type integer is not a composite type',
				 'a non-composite target: 42804');
SELECT throws_ok($$SELECT * FROM typed_cache.project_set('{"id": 1}', NULL::public.tc_pgtap_t)$$,
				 '42804', 'project_set expects a JSON array of objects',
				 'project_set() of a non-array: 42804');

SELECT is(typed_cache.unregister('public.tc_pgtap_t'), true,
		  'unregister() returns true for a registered type');
SELECT is(typed_cache.unregister('public.tc_pgtap_t'), false,
		  'unregister() returns false when nothing was registered');
SELECT is((SELECT count(*)::int FROM typed_cache.registered_types), 0,
		  'registered_types is empty again');

SELECT * FROM finish();
ROLLBACK;
