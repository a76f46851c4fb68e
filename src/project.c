/* placeholder: being written */
#include "postgres.h"
#include "fmgr.h"
#include "typed_cache.h"
#include "project.h"
PG_FUNCTION_INFO_V1(project);
PG_FUNCTION_INFO_V1(project_set);
PG_FUNCTION_INFO_V1(tc_register);
PG_FUNCTION_INFO_V1(tc_unregister);
void tc_project_init(void) {}
Datum project(PG_FUNCTION_ARGS) { elog(ERROR, "not yet"); }
Datum project_set(PG_FUNCTION_ARGS) { elog(ERROR, "not yet"); }
Datum tc_register(PG_FUNCTION_ARGS) { elog(ERROR, "not yet"); }
Datum tc_unregister(PG_FUNCTION_ARGS) { elog(ERROR, "not yet"); }
Datum tc_project_jsonb(Jsonb *doc, Oid typid) { elog(ERROR, "not yet"); }
void tc_check_composite(Oid typid) {}
