// The transfer rules (core/transfer.hpp): who may send, accept and cancel, and when.
#include "core/transfer.hpp"

#include <gtest/gtest.h>

namespace ticketd::core {
namespace {

Ticket ticket(UserId owner, TicketStatus status) {
  Ticket t;
  t.id = "00112233445566778899aabbccddeeff";
  t.owner_id = owner;
  t.status = status;
  return t;
}

Transfer pending(UserId from, const std::string& to) {
  Transfer t;
  t.from_user = from;
  t.to_email = to;
  return t;
}

TEST(Transfer, OnlyTheOwnerSendsAValidTicket) {
  EXPECT_TRUE(may_send(ticket(1, TicketStatus::Valid), 1));
  EXPECT_EQ(may_send(ticket(1, TicketStatus::Valid), 2).error().code, Code::NotFound);
  EXPECT_EQ(may_send(ticket(1, TicketStatus::CheckedIn), 1).error().code, Code::TicketNotTransferable);
  EXPECT_EQ(may_send(ticket(1, TicketStatus::Revoked), 1).error().code, Code::TicketNotTransferable);
}

TEST(Transfer, OnlyTheAddresseeAcceptsAPendingTransferOfAValidTicket) {
  const Transfer t = pending(1, "bo@example.test");
  EXPECT_TRUE(may_accept(t, ticket(0, TicketStatus::Valid), 2, "bo@example.test"));
  EXPECT_EQ(may_accept(t, ticket(0, TicketStatus::Valid), 3, "cy@example.test").error().code, Code::NotFound);
  // The sender cannot accept their own transfer, even with the address (an account renamed to it).
  EXPECT_EQ(may_accept(t, ticket(0, TicketStatus::Valid), 1, "bo@example.test").error().code, Code::NotFound);
  EXPECT_EQ(may_accept(t, ticket(0, TicketStatus::Revoked), 2, "bo@example.test").error().code,
            Code::TicketNotTransferable);
  for (TransferStatus decided : {TransferStatus::Accepted, TransferStatus::Cancelled}) {
    Transfer d = t;
    d.status = decided;
    EXPECT_EQ(may_accept(d, ticket(0, TicketStatus::Valid), 2, "bo@example.test").error().code,
              Code::TransferNotPending);
    EXPECT_EQ(may_cancel(d, 1).error().code, Code::TransferNotPending);
  }
}

TEST(Transfer, OnlyTheSenderCancels) {
  const Transfer t = pending(1, "bo@example.test");
  EXPECT_TRUE(may_cancel(t, 1));
  EXPECT_EQ(may_cancel(t, 2).error().code, Code::NotFound);
}

TEST(Transfer, StatusNamesRoundTrip) {
  for (TransferStatus s : {TransferStatus::Pending, TransferStatus::Accepted, TransferStatus::Cancelled})
    EXPECT_EQ(transfer_status_from(to_string(s)), s);
  EXPECT_FALSE(transfer_status_from("pending"));
}

}  // namespace
}  // namespace ticketd::core
