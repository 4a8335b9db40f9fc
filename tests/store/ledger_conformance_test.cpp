// The ledger conformance suite (ledger_conformance.hpp) on the reference ledger and the embedded one, and
// the ledger simulation (ledger_sim.hpp) of the embedded one against the reference.
#include "ledger_backends.hpp"
#include "ledger_conformance.hpp"
#include "ledger_sim.hpp"

namespace ticketd::conformance {

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, LedgerConformance, MemoryBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, LedgerConformance, SqliteBackend);

TEST(LedgerSimulation, TheEmbeddedLedgerAnswersAsTheReferenceThroughRestarts) {
  run_ledger_sims<SqliteBackend>(1, 8, 300);
}

}  // namespace ticketd::conformance
