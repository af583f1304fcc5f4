// RAII transaction on a PostgreSQL connection: BEGIN at construction, ROLLBACK
// at destruction unless commit() ran (as SQLite::Transaction). A rollback on a
// connection the server has dropped is a no-op: the server rolled it back.
#pragma once

#include "store/postgres/pg_connection.hpp"

namespace reconciler::store::postgres {

class transaction {
public:
    explicit transaction(connection& c) : c_(c) { c_.exec("BEGIN"); }
    ~transaction() {
        if (done_) return;
        try {
            c_.exec("ROLLBACK");
        } catch (...) {  // the connection is gone: so is the transaction
        }
    }
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;

    void commit() {
        c_.exec("COMMIT");
        done_ = true;
    }

private:
    connection& c_;
    bool done_ = false;
};

}  // namespace reconciler::store::postgres
