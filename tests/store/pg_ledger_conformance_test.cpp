// The ledger conformance suite (ledger_conformance.hpp) and the ledger simulation (ledger_sim.hpp) on the
// distributed ledger, under scripts/services.
#include "ledger_conformance.hpp"
#include "ledger_sim.hpp"
#include "pg_ledger_backend.hpp"

namespace ticketd::conformance {

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, LedgerConformance, PostgresBackend);

TEST(LedgerSimulation, TheDistributedLedgerAnswersAsTheReferenceThroughRestarts) {
  run_ledger_sims<PostgresBackend>(101, 3, 300);
}

}  // namespace ticketd::conformance
