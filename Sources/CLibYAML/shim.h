#ifndef CLUSTERDNS_CLIBYAML_SHIM_H
#define CLUSTERDNS_CLIBYAML_SHIM_H
// libyaml's event parser: manifests are read event by event into a flat tape, with no node tree
// (issue #9: Yams' trees were most of start-up).
#include <yaml.h>
#endif
