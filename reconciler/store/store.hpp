// All database access of the reconciler, split into the ports each stage
// needs, one header each:
//   schema           schema.hpp           migrations and the schema check
//   run_log          run_log.hpp          runs, their pages and findings
//   checkpoints      checkpoints.hpp      how far each stream is verified
//   snapshot         snapshot.hpp         the app's side of a window
//   fetch_lookup     fetch_lookup.hpp     what the Stripe fetch stage reads
//   invoice_links    invoice_links.hpp    PaymentIntent -> invoice, from invoice pages
//   ledger           ledger.hpp           corrections, reverts, adjusts
//   escalations      escalations.hpp      raise, resolve, list
//   support_queries  support_queries.hpp  the support commands' look-ups
// A stage takes the narrowest port it needs. `store` is all of them, as one
// backend (SQLite: sqlite/) implements them on one connection; a backend is
// written one port at a time, each port's SQL in that port's file.
//
// The ports are virtual bases, so a backend's class per port (which
// implements just that port) and `store` share one subobject per port.
#pragma once

#include "store/checkpoints.hpp"
#include "store/errors.hpp"
#include "store/escalations.hpp"
#include "store/fetch_lookup.hpp"
#include "store/ids.hpp"
#include "store/invoice_links.hpp"
#include "store/ledger.hpp"
#include "store/outbox.hpp"
#include "store/run_log.hpp"
#include "store/schema.hpp"
#include "store/snapshot.hpp"
#include "store/sqlite/open.hpp"
#include "store/support_queries.hpp"
#include "store/types.hpp"

namespace reconciler::store {

class store : public virtual schema,
              public virtual run_log,
              public virtual checkpoints,
              public virtual snapshot,
              public virtual fetch_lookup,
              public virtual invoice_links,
              public virtual ledger,
              public virtual escalations,
              public virtual outbox,
              public virtual support_queries {
public:
    ~store() override = default;
};

}  // namespace reconciler::store
