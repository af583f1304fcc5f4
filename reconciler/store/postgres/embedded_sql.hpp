// PostgreSQL's SQL under sql/postgres/, compiled in (see ../embed_sql.cmake).
// Its migrations are numbered on their own: PostgreSQL's schema version 1 is
// the tables SQLite reaches at its version 3.
#pragma once

#include "store/embedded_sql.hpp"

namespace reconciler::store::postgres {

using reconciler::store::migration;

// The reconciler's migrations, in order; "@schema@" stands for its schema.
const std::vector<migration>& migrations();

// The app's tables (sql/postgres/app_schema.sql), for the demo and the tests.
std::string_view app_schema_sql();

}  // namespace reconciler::store::postgres
