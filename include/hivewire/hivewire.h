/*
 * hivewire: the umbrella header. Includes every public header of the library; each can also be
 * included on its own.
 */
#ifndef HIVEWIRE_HIVEWIRE_H
#define HIVEWIRE_HIVEWIRE_H

#include <hivewire/common.h>
#include <hivewire/hist.h>
#include <hivewire/rng.h>
#include <hivewire/codec.h>
#include <hivewire/ring.h>
#include <hivewire/bus.h>
#include <hivewire/consensus.h>
#include <hivewire/sim.h>
#include <hivewire/market.h>
#include <hivewire/risk.h>
#include <hivewire/dtw.h>
#include <hivewire/exchange.h>
#include <hivewire/profiler.h>
#include <hivewire/swarm.h>
#include <hivewire/log.h>

#endif /* HIVEWIRE_HIVEWIRE_H */
