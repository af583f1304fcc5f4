#include "store/postgres/postgres_store.hpp"

#include "store/postgres/embedded_sql.hpp"
#include "store/postgres/pg_transaction.hpp"

namespace reconciler::store {

std::unique_ptr<store> open_postgres_store(const postgres_options& opts, const app_tables& tables) {
    postgres::quoted_schema_name(opts.schema);  // refused before connecting
    return std::make_unique<postgres::postgres_store>(opts, tables);
}

void create_postgres_app_schema(const postgres::connect_options& opts) {
    postgres::connection c(opts);
    postgres::transaction tx(c);
    c.exec(postgres::app_schema_sql());
    tx.commit();
}

}  // namespace reconciler::store
