// Kernel ABI numbers, each from the uapi header named beside it (Debian 12's linux-libc-dev 6.1).
// Byte order: netlink headers and most attributes are host order; IPVS ports and the IPv4
// persistence netmask are network order, as the kernel's nla_get_be16/be32 read them.

/// linux/netlink.h
enum NL {
    static let route: Int32 = 0          // NETLINK_ROUTE
    static let generic: Int32 = 16       // NETLINK_GENERIC
    static let solNetlink: Int32 = 270   // SOL_NETLINK
    static let addMembership: Int32 = 1  // NETLINK_ADD_MEMBERSHIP
    static let capAck: Int32 = 10        // NETLINK_CAP_ACK
    static let extAck: Int32 = 11        // NETLINK_EXT_ACK

    static let headerSize = 16           // sizeof(struct nlmsghdr)
    static let attributeHeaderSize = 4   // sizeof(struct nlattr)

    static let msgNoop: UInt16 = 1       // NLMSG_NOOP
    static let msgError: UInt16 = 2      // NLMSG_ERROR
    static let msgDone: UInt16 = 3       // NLMSG_DONE
    static let msgOverrun: UInt16 = 4    // NLMSG_OVERRUN

    static let fRequest: UInt16 = 0x1    // NLM_F_REQUEST
    static let fMulti: UInt16 = 0x2      // NLM_F_MULTI
    static let fAck: UInt16 = 0x4        // NLM_F_ACK
    static let fDump: UInt16 = 0x300     // NLM_F_ROOT | NLM_F_MATCH
    static let fReplace: UInt16 = 0x100  // NLM_F_REPLACE
    static let fExcl: UInt16 = 0x200     // NLM_F_EXCL
    static let fCreate: UInt16 = 0x400   // NLM_F_CREATE
    static let fAckTLVs: UInt16 = 0x200  // NLM_F_ACK_TLVS (on NLMSG_ERROR replies)

    static let attrNested: UInt16 = 0x8000      // NLA_F_NESTED
    static let attrNetByteOrder: UInt16 = 0x4000 // NLA_F_NET_BYTEORDER
    static let attrTypeMask: UInt16 = 0x3FFF    // NLA_TYPE_MASK

    static let errAttrMsg: UInt16 = 1    // NLMSGERR_ATTR_MSG
}

/// linux/rtnetlink.h, linux/if_addr.h, linux/if_link.h, linux/if.h
enum RT {
    static let newLink: UInt16 = 16, delLink: UInt16 = 17, getLink: UInt16 = 18
    static let newAddr: UInt16 = 20, delAddr: UInt16 = 21, getAddr: UInt16 = 22

    static let groupLink: UInt32 = 1        // RTNLGRP_LINK
    static let groupIPv4Addr: UInt32 = 5    // RTNLGRP_IPV4_IFADDR
    static let groupIPv6Addr: UInt32 = 9    // RTNLGRP_IPV6_IFADDR

    static let ifInfoSize = 16              // sizeof(struct ifinfomsg)
    static let ifAddrSize = 8               // sizeof(struct ifaddrmsg)

    static let iflaAddress: UInt16 = 1      // IFLA_ADDRESS
    static let iflaIfName: UInt16 = 3       // IFLA_IFNAME
    static let iflaMTU: UInt16 = 4          // IFLA_MTU
    static let iflaOperState: UInt16 = 16   // IFLA_OPERSTATE

    static let ifaAddress: UInt16 = 1       // IFA_ADDRESS
    static let ifaLocal: UInt16 = 2         // IFA_LOCAL
    static let ifaLabel: UInt16 = 3         // IFA_LABEL
    static let ifaFlags: UInt16 = 8         // IFA_FLAGS
    static let ifaFlagNoDAD: UInt8 = 0x02   // IFA_F_NODAD

    static let iffUp: UInt32 = 0x1          // IFF_UP
    static let iffLoopback: UInt32 = 0x8    // IFF_LOOPBACK
    static let iffLowerUp: UInt32 = 0x10000 // IFF_LOWER_UP

    static let scopeUniverse: UInt8 = 0     // RT_SCOPE_UNIVERSE
    static let scopeLink: UInt8 = 253       // RT_SCOPE_LINK
    static let scopeHost: UInt8 = 254       // RT_SCOPE_HOST

    static let afInet: UInt8 = 2            // AF_INET
    static let afInet6: UInt8 = 10          // AF_INET6
}

/// linux/genetlink.h
enum GENL {
    static let headerSize = 4                // sizeof(struct genlmsghdr)
    static let idCtrl: UInt16 = 0x10         // GENL_ID_CTRL
    static let ctrlCmdGetFamily: UInt8 = 3   // CTRL_CMD_GETFAMILY
    static let ctrlAttrFamilyID: UInt16 = 1  // CTRL_ATTR_FAMILY_ID
    static let ctrlAttrFamilyName: UInt16 = 2 // CTRL_ATTR_FAMILY_NAME
}

/// linux/ip_vs.h
enum IPVSABI {
    static let familyName = "IPVS"          // IPVS_GENL_NAME
    static let version: UInt8 = 1           // IPVS_GENL_VERSION

    static let cmdNewService: UInt8 = 1, cmdSetService: UInt8 = 2, cmdDelService: UInt8 = 3, cmdGetService: UInt8 = 4
    static let cmdNewDest: UInt8 = 5, cmdSetDest: UInt8 = 6, cmdDelDest: UInt8 = 7, cmdGetDest: UInt8 = 8
    static let cmdNewDaemon: UInt8 = 9, cmdDelDaemon: UInt8 = 10, cmdGetDaemon: UInt8 = 11
    static let cmdSetConfig: UInt8 = 12, cmdGetConfig: UInt8 = 13
    static let cmdGetInfo: UInt8 = 15
    static let cmdFlush: UInt8 = 17

    static let attrService: UInt16 = 1, attrDest: UInt16 = 2, attrDaemon: UInt16 = 3
    static let attrTimeoutTCP: UInt16 = 4, attrTimeoutTCPFin: UInt16 = 5, attrTimeoutUDP: UInt16 = 6

    static let svcAF: UInt16 = 1, svcProtocol: UInt16 = 2, svcAddr: UInt16 = 3, svcPort: UInt16 = 4
    static let svcFWMark: UInt16 = 5, svcSchedName: UInt16 = 6, svcFlags: UInt16 = 7
    static let svcTimeout: UInt16 = 8, svcNetmask: UInt16 = 9, svcStats: UInt16 = 10, svcPEName: UInt16 = 11
    static let svcStats64: UInt16 = 12

    static let destAddr: UInt16 = 1, destPort: UInt16 = 2, destFwdMethod: UInt16 = 3, destWeight: UInt16 = 4
    static let destUThresh: UInt16 = 5, destLThresh: UInt16 = 6, destActiveConns: UInt16 = 7
    static let destInactConns: UInt16 = 8, destPersistConns: UInt16 = 9, destStats: UInt16 = 10
    static let destAddrFamily: UInt16 = 11, destStats64: UInt16 = 12

    static let daemonState: UInt16 = 1, daemonMcastIfn: UInt16 = 2, daemonSyncID: UInt16 = 3

    static let statsConns: UInt16 = 1, statsInPkts: UInt16 = 2, statsOutPkts: UInt16 = 3
    static let statsInBytes: UInt16 = 4, statsOutBytes: UInt16 = 5, statsCPS: UInt16 = 6
    static let statsInPPS: UInt16 = 7, statsOutPPS: UInt16 = 8, statsInBPS: UInt16 = 9, statsOutBPS: UInt16 = 10

    static let infoVersion: UInt16 = 1, infoConnTabSize: UInt16 = 2

    static let svcFPersistent: UInt32 = 0x0001   // IP_VS_SVC_F_PERSISTENT
    static let svcFHashed: UInt32 = 0x0002       // IP_VS_SVC_F_HASHED
    static let svcFOnePacket: UInt32 = 0x0004    // IP_VS_SVC_F_ONEPACKET: one-packet scheduling (ops)
    static let svcFSched1: UInt32 = 0x0008       // IP_VS_SVC_F_SCHED1: sh-fallback / mh-fallback
    static let svcFSched2: UInt32 = 0x0010       // IP_VS_SVC_F_SCHED2: sh-port / mh-port

    static let connFMasq: UInt32 = 0, connFTunnel: UInt32 = 2, connFDroute: UInt32 = 3 // IP_VS_CONN_F_*
    static let connFFwdMask: UInt32 = 0x7

    static let stateMaster: UInt32 = 1, stateBackup: UInt32 = 2   // IP_VS_STATE_*
    static let ifnameMax = 16                   // IP_VS_IFNAME_MAXLEN (with NUL)
    static let schedNameMax = 16                // IP_VS_SCHEDNAME_MAXLEN (with NUL)

    static let protoTCP: UInt16 = 6, protoUDP: UInt16 = 17, protoSCTP: UInt16 = 132 // IPPROTO_*
}
