// Sessions read in batches on a thread of their own (session_reader.hpp).
#include "app/session_reader.hpp"

#include <exception>
#include <utility>
#include <vector>

#include "base/thread_name.hpp"

namespace ticketd::app {

SessionReader::SessionReader(core::AccountStore& store)
    : store_(store), thread_([this] {
        name_this_thread("session-reader");
        run();
      }) {}

SessionReader::~SessionReader() {
  queue_.stop();  // take() hands out what is queued before it ends
  thread_.join();
}

bool SessionReader::read(std::string token_hash, Done done) {
  Read r{std::move(token_hash), std::move(done)};
  return queue_.push(r);
}

void SessionReader::run() {
  std::vector<Read> batch;
  while (queue_.take(batch)) {
    answer(batch);
    batch.clear();
  }
}

void SessionReader::answer(std::vector<Read>& batch) {
  std::vector<std::string> hashes;
  hashes.reserve(batch.size());
  for (const Read& r : batch) hashes.push_back(r.token_hash);
  std::vector<std::optional<core::SessionRecord>> found;
  bool failed = false;
  try {
    found = store_.find_sessions(hashes);
    failed = found.size() != hashes.size();
  } catch (const std::exception&) {  // the store is unreachable (UnavailableError) or failed
    failed = true;
  }
  // Each caller then reads on a worker (app/accounts.hpp): that read answers 503 or logs what failed.
  if (failed) {
    for (Read& r : batch) r.done(core::make_error(core::Code::Unavailable, "sessions cannot be read now"));
    return;
  }
  for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(found[i]));
}

}  // namespace ticketd::app
