#include "cli/connect_check.hpp"

#include "pipeline/run.hpp"
#include "pipeline/stripe_setup.hpp"
#include "core/json_log.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/store.hpp"
#include "stripe/beast_transport.hpp"
#include "stripe/client.hpp"
#include "pipeline/database.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace reconciler::cli {

namespace asio = boost::asio;

std::string check_database(const config& cfg) {
    const auto access = database_access_of(cfg);
    std::unique_ptr<store::store> db;
    try {
        db = open_store_once(access);
    } catch (const store::postgres::server_unavailable& e) {
        const auto wait = access.connect_retry_for.count();
        const std::string run_would = wait ? "a run would wait for it up to " + std::to_string(wait) + "s"
                                           : "a run would not wait for it either";
        throw store::connection_lost(std::string(e.what()) + " (tried once; " + run_would +
                                     ": database.connect_retry_for)");
    }
    db->check_schema();
    return "database " + database_name(cfg) + ": ok (schema version " + std::to_string(db->schema_version()) +
           ")";
}

std::string check_stripe(const config& cfg) {
    const std::string key = read_secret(cfg.stripe.key, "stripe key");
    log::add_secret(key);
    asio::io_context ioc;
    auto transport = stripe::make_beast_transport(ioc, stripe_transport_options(cfg, key));
    stripe::client_options copts = stripe_client_options(cfg, key);
    copts.concurrency = 1;  // one request
    stripe::client client(*transport, copts);
    const std::string path = "/v1/events?limit=1";
    auto reached = asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<std::string> {
            stripe::refuse_tls_failure(co_await transport->probe(), cfg.stripe.base_url);
            co_return (co_await client.retrieve(path)).second;
        },
        asio::use_future);
    ioc.run();
    const std::string request_id = reached.get();
    return "stripe " + cfg.stripe.base_url + ": ok (GET " + path + " at API version " + cfg.stripe.api_version +
           (request_id.empty() ? "" : ", request " + request_id) + ")";
}

}  // namespace reconciler::cli
