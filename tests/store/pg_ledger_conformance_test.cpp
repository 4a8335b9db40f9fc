// The ledger conformance suite (ledger_conformance.hpp) and the ledger simulation (ledger_sim.hpp) on the
// distributed ledger, under scripts/services.
#include "ledger_conformance.hpp"
#include "ledger_sim.hpp"
#include "pg_ledger_backend.hpp"

namespace ticketd::conformance {

INSTANTIATE_TYPED_TEST_SUITE_P(PostgresOwner, LedgerConformance, PostgresOwnerBackend);

TEST(LedgerSimulation, TheOwnersSeatEngineOverPostgresAnswersAsTheReferenceThroughRestarts) {
  run_ledger_sims<PostgresOwnerBackend>(201, 3, 300);
}

// Ownership moves between two owners now and then, the old one paused (its memory kept, its lease taken
// from it), and tries a hold that must be refused; every answer still matches the reference.
TEST(LedgerSimulation, TwoOwnersTakingEventsFromEachOtherAnswerAsTheReference) {
  run_ledger_sims<PostgresMovingOwnersBackend>(301, 3, 300);
}

}  // namespace ticketd::conformance
