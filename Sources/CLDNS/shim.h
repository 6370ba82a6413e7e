#ifndef CLUSTERDNS_CLDNS_SHIM_H
#define CLUSTERDNS_CLDNS_SHIM_H
// <stdbool.h> first, or ldns's `bool` fields import into Swift as Int8.
#include <stdbool.h>
#include <stdio.h>
#include <ldns/ldns.h>
#endif
