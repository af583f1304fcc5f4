// PostgreSQL: the whole store, one session (connection) shared by one class
// per port, as sqlite_store.hpp does it.
#pragma once

#include "store/postgres/checkpoints.hpp"
#include "store/postgres/escalations.hpp"
#include "store/postgres/outbox.hpp"
#include "store/postgres/fetch_lookup.hpp"
#include "store/postgres/invoice_links.hpp"
#include "store/postgres/ledger.hpp"
#include "store/postgres/pg_session.hpp"
#include "store/postgres/run_log.hpp"
#include "store/postgres/schema.hpp"
#include "store/postgres/snapshot.hpp"
#include "store/postgres/support_queries.hpp"
#include "store/store.hpp"

namespace reconciler::store::postgres {

// Holds the session in a base listed first, so it is open before the
// ports' classes are built on it and closed after they are gone.
struct session_owner {
    session_owner(const postgres_options& opts, const app_tables& tables) : sess(opts, tables) {}
    session sess;
};

class postgres_store final : private session_owner,
                             public store,
                             public postgres_schema,
                             public postgres_run_log,
                             public postgres_checkpoints,
                             public postgres_snapshot,
                             public postgres_fetch_lookup,
                             public postgres_invoice_links,
                             public postgres_ledger,
                             public postgres_escalations,
                             public postgres_outbox,
                             public postgres_support_queries {
public:
    postgres_store(const postgres_options& opts, const app_tables& tables)
        : session_owner(opts, tables),
          postgres_schema(sess),
          postgres_run_log(sess),
          postgres_checkpoints(sess),
          postgres_snapshot(sess),
          postgres_fetch_lookup(sess),
          postgres_invoice_links(sess),
          postgres_ledger(sess),
          postgres_escalations(sess),
          postgres_outbox(sess),
          postgres_support_queries(sess) {}
};

}  // namespace reconciler::store::postgres
