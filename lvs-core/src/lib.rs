//! lvs-core: the IPVS model and ipvsadm rule files.
