#ifndef LB_CEPOLL_SHIM_H
#define LB_CEPOLL_SHIM_H
// Glibc's Swift module leaves these two out; the tcp checks' epoll thread needs them.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
