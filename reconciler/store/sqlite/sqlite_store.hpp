// SQLite: the whole store, one connection shared by one class per port.
// Each port's final overrider is its sqlite_* class (the ports are virtual
// bases of both `store` and those classes, so there is one of each).
#pragma once

#include "store/sqlite/checkpoints.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/escalations.hpp"
#include "store/sqlite/fetch_lookup.hpp"
#include "store/sqlite/invoice_links.hpp"
#include "store/sqlite/ledger.hpp"
#include "store/sqlite/outbox.hpp"
#include "store/sqlite/run_log.hpp"
#include "store/sqlite/schema.hpp"
#include "store/sqlite/snapshot.hpp"
#include "store/sqlite/support_queries.hpp"
#include "store/store.hpp"

namespace reconciler::store::sqlite {

// Holds the connection in a base listed first, so it is open before the
// ports' classes are built on it and closed after they are gone.
struct connection_owner {
    connection_owner(const sqlite_options& opts, const app_tables& tables) : conn(opts, tables) {}
    connection conn;
};

class sqlite_store final : private connection_owner,
                           public store,
                           public sqlite_schema,
                           public sqlite_run_log,
                           public sqlite_checkpoints,
                           public sqlite_snapshot,
                           public sqlite_fetch_lookup,
                           public sqlite_invoice_links,
                           public sqlite_ledger,
                           public sqlite_escalations,
                           public sqlite_outbox,
                           public sqlite_support_queries {
public:
    sqlite_store(const sqlite_options& opts, const app_tables& tables)
        : connection_owner(opts, tables),
          sqlite_schema(conn),
          sqlite_run_log(conn),
          sqlite_checkpoints(conn),
          sqlite_snapshot(conn),
          sqlite_fetch_lookup(conn),
          sqlite_invoice_links(conn),
          sqlite_ledger(conn),
          sqlite_escalations(conn),
          sqlite_outbox(conn),
          sqlite_support_queries(conn) {}
};

}  // namespace reconciler::store::sqlite
