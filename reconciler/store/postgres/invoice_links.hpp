// PostgreSQL: recon_invoice_links.
#pragma once

#include "store/invoice_links.hpp"
#include "store/postgres/pg_session.hpp"

namespace reconciler::store::postgres {

class postgres_invoice_links : public virtual invoice_links {
public:
    explicit postgres_invoice_links(session& s) noexcept : s_(s) {}

    void record_invoice_links(const std::vector<invoice_link>& links) override;
    std::vector<invoice_link> invoice_links_of(const std::vector<std::string>& payment_intents) override;

private:
    session& s_;
};

}  // namespace reconciler::store::postgres
