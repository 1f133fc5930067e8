#pragma once
// The vNIC drivers, one per file; only vnic.cc picks among them. Not a public
// interface: use vnic_driver() from vnic/vnic.h.

#include "vnic/vnic.h"

namespace weft::dp {

const VnicDriver& af_packet_driver();
const VnicDriver& af_xdp_driver();
const VnicDriver& vhost_user_driver();
const VnicDriver& dpdk_devargs_driver();

}  // namespace weft::dp
