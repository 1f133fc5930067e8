#pragma once
// The packet mempool every weftd component and test uses: it reserves the
// private area that holds PktMeta (meta.h), so a pool made any other way
// must not feed the pipeline.
//
// Call after rte_eal_init, from the main lcore.

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdint>

namespace weft::dp {

struct MbufPoolConfig {
  const char* name = "weft_mbufs";
  uint32_t mbufs = 16383;  // modest: runs on ordinary memory without hugepages
  uint32_t cache = 256;
  uint16_t data_room = RTE_MBUF_DEFAULT_BUF_SIZE;
  int socket = SOCKET_ID_ANY;
};

// Returns null (rte_errno set) when the pool cannot be made.
rte_mempool* create_mbuf_pool(const MbufPoolConfig& cfg = {});

}  // namespace weft::dp
