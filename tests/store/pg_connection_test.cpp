// The PostgreSQL connection's pipelines (store/postgres/pg.hpp) against a real PostgreSQL
// (scripts/services): answers in the order sent, a failure thrown with what came after it not run, and
// a connection that is usable again after either, or reported lost.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "store/postgres/pg.hpp"

namespace ticketd::store::postgres {
namespace {

std::string url() {
  const char* base = std::getenv("TICKETD_TEST_POSTGRES_URL");
  return base ? base : "";
}

class PgPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(url().empty()) << "run under scripts/services (TICKETD_TEST_POSTGRES_URL unset)";
    c_ = std::make_unique<Connection>(url());
    c_->exec("CREATE TEMP TABLE piped(n integer PRIMARY KEY)");
  }
  int64_t count() { return c_->query("SELECT count(*) FROM piped").int64(0, 0); }

  std::unique_ptr<Connection> c_;
};

TEST_F(PgPipelineTest, AnswersComeInTheOrderSent) {
  EXPECT_TRUE(c_->sync().empty());  // nothing sent, nothing to read
  c_->send("BEGIN");
  c_->send("INSERT INTO piped(n) SELECT * FROM unnest($1::integer[]) RETURNING n",
           {p_array(std::vector<int>{3, 1, 2})});
  c_->send("SELECT $1::bigint + 1", {p(41)});
  c_->send("COMMIT");
  const std::vector<Rows> answers = c_->sync();
  ASSERT_EQ(answers.size(), 4u);
  EXPECT_EQ(answers[1].size(), 3);
  EXPECT_EQ(answers[2].int64(0, 0), 42);
  EXPECT_EQ(count(), 3);
  // A statement prepared in a pipeline is the one query() runs, and the other way round.
  EXPECT_EQ(c_->query("SELECT $1::bigint + 1", {p(1)}).int64(0, 0), 2);
  c_->send("SELECT $1::bigint + 1", {p(2)});
  EXPECT_EQ(c_->sync().at(0).int64(0, 0), 3);
}

TEST_F(PgPipelineTest, AFailureIsThrownAndWhatCameAfterItDidNotRun) {
  c_->send("BEGIN");
  c_->send("INSERT INTO piped(n) VALUES ($1)", {p(1)});
  c_->send("INSERT INTO piped(n) VALUES ($1)", {p(1)});  // the same key: refused
  c_->send("INSERT INTO piped(n) VALUES ($1)", {p(2)});
  try {
    c_->sync();
    FAIL() << "a duplicate key was accepted";
  } catch (const PgError& e) {
    EXPECT_EQ(e.sqlstate, "23505");
    EXPECT_FALSE(e.connection_lost());
  }
  ASSERT_TRUE(c_->healthy());
  c_->exec("ROLLBACK");  // the transaction was aborted: nothing of it stays
  EXPECT_EQ(count(), 0);
  // A statement PostgreSQL cannot prepare fails alone, and the connection goes on.
  c_->send("SELECT no_such_column FROM piped");
  EXPECT_THROW(c_->sync(), PgError);
  c_->send("INSERT INTO piped(n) VALUES ($1)", {p(7)});
  c_->sync();
  EXPECT_EQ(count(), 1);
}

TEST_F(PgPipelineTest, ALostConnectionIsReportedAndConnectedAgain) {
  const int64_t pid = c_->query("SELECT pg_backend_pid()").int64(0, 0);
  {
    Connection other(url());
    other.query("SELECT pg_terminate_backend($1)", {p(pid)});
  }
  bool lost = false;
  try {
    c_->send("SELECT 1");
    c_->sync();
  } catch (const PgError& e) {
    lost = e.connection_lost();
  }
  EXPECT_TRUE(lost);
  EXPECT_FALSE(c_->healthy());
  c_->reconnect();
  c_->send("SELECT 1");
  EXPECT_EQ(c_->sync().at(0).int64(0, 0), 1);
}

}  // namespace
}  // namespace ticketd::store::postgres
