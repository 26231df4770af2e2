#ifndef LB_CSODIUM_SHIM_H
#define LB_CSODIUM_SHIM_H
#include <sodium.h>
#endif
