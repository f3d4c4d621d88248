/*
 * vpcd-loopback.so: an LD_PRELOAD shim for pcscd, built and loaded by scripts/pcsc-stack.sh.
 *
 * vsmartcard's vpcd driver (loaded by pcscd) listens for virtual cards on TCP ports 35963, 35964,
 * ... bound to INADDR_ANY: any host on the network could plug a card into this machine's PC/SC
 * (shared/spec/pcsc-vpcd.md section 1). vpcd has no option to bind elsewhere, and its reversed
 * mode crashes Debian 12's pcscd. This shim rewrites a wildcard bind() (0.0.0.0 or ::) made inside
 * pcscd to the loopback address (127.0.0.1 or ::1), so only programs on this machine can connect.
 * Any other bind() is passed through untouched. The project's own code; nothing else is changed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*bind_function)(int, const struct sockaddr *, socklen_t);

int bind(int fd, const struct sockaddr *address, socklen_t length)
{
    static bind_function next_bind;
    if (next_bind == NULL) {
        next_bind = (bind_function)dlsym(RTLD_NEXT, "bind");
        if (next_bind == NULL) {
            errno = ENOSYS;
            return -1;
        }
    }
    if (address != NULL && address->sa_family == AF_INET
            && length >= (socklen_t)sizeof(struct sockaddr_in)) {
        struct sockaddr_in loopback;
        memcpy(&loopback, address, sizeof loopback);
        if (loopback.sin_addr.s_addr == htonl(INADDR_ANY)) {
            loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            return next_bind(fd, (const struct sockaddr *)&loopback, sizeof loopback);
        }
    } else if (address != NULL && address->sa_family == AF_INET6
            && length >= (socklen_t)sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 loopback;
        memcpy(&loopback, address, sizeof loopback);
        if (memcmp(&loopback.sin6_addr, &in6addr_any, sizeof in6addr_any) == 0) {
            loopback.sin6_addr = in6addr_loopback;
            return next_bind(fd, (const struct sockaddr *)&loopback, sizeof loopback);
        }
    }
    return next_bind(fd, address, length);
}
