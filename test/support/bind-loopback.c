/* LD_PRELOAD shim for tests: obs-websocket 5.1.0 has no bind-address option and listens on every
 * interface. This rewrites bind() to a wildcard address into the loopback address, so the OBS
 * that tests start is reachable from 127.0.0.1 (::1) only. Built by test/support/obs.ts. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
  static bind_fn real_bind;
  if (!real_bind) real_bind = (bind_fn)dlsym(RTLD_NEXT, "bind");
  if (addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
    struct sockaddr_in v4;
    memcpy(&v4, addr, sizeof v4);
    if (v4.sin_addr.s_addr == htonl(INADDR_ANY)) {
      v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      return real_bind(fd, (const struct sockaddr *)&v4, sizeof v4);
    }
  }
  if (addr && addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
    struct sockaddr_in6 v6;
    memcpy(&v6, addr, sizeof v6);
    if (memcmp(&v6.sin6_addr, &in6addr_any, sizeof in6addr_any) == 0) {
      v6.sin6_addr = in6addr_loopback;
      return real_bind(fd, (const struct sockaddr *)&v6, sizeof v6);
    }
  }
  return real_bind(fd, addr, len);
}
