// SQLite: recon_invoice_links.
#pragma once

#include "store/invoice_links.hpp"
#include "store/sqlite/connection.hpp"

namespace reconciler::store::sqlite {

class sqlite_invoice_links : public virtual invoice_links {
public:
    explicit sqlite_invoice_links(connection& c) noexcept : c_(c) {}

    void record_invoice_links(const std::vector<invoice_link>& links) override;
    std::vector<invoice_link> invoice_links_of(const std::vector<std::string>& payment_intents) override;

private:
    connection& c_;
};

}  // namespace reconciler::store::sqlite
