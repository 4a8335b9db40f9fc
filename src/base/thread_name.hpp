// Names the calling thread, so that `top -H`, `perf report --sort comm` and a debugger tell ticketd's
// threads apart (the I/O threads, the commit writers, the Redis and peer threads, the background jobs)
// instead of showing each as "ticketd". Linux keeps at most 15 bytes of a name; longer ones are cut.
#pragma once

#include <pthread.h>

#include <string>
#include <string_view>

namespace ticketd {
inline void name_this_thread(std::string_view name) {
  constexpr size_t kNameMax = 15;  // TASK_COMM_LEN less its terminating NUL
  const std::string kept(name.substr(0, kNameMax));
  pthread_setname_np(pthread_self(), kept.c_str());  // fails only for a name too long: cut above
}
}  // namespace ticketd
