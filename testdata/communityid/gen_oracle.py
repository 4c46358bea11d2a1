# Generates ORACLE-vectors.tsv with the reference Python implementation (pip: communityid).
import communityid, random
cid = communityid.CommunityID(seed=0)
cid1 = communityid.CommunityID(seed=1)
rows = []
def add(proto, s, d, sp, dp, c=cid, seed=0):
    if proto in ('tcp','udp','sctp'):
        f = {'tcp':communityid.FlowTuple.make_tcp,'udp':communityid.FlowTuple.make_udp,'sctp':communityid.FlowTuple.make_sctp}[proto](s,d,sp,dp)
    elif proto in ('icmp','icmp6'):
        f = {'icmp':communityid.FlowTuple.make_icmp,'icmp6':communityid.FlowTuple.make_icmp6}[proto](s,d,sp,dp)
    else:
        f = communityid.FlowTuple.make_ip(s,d,int(proto))
        sp = dp = '-'
    rows.append((seed, proto, s, d, sp, dp, c.calc(f)))
add('tcp','1.2.3.4','5.6.7.8',1122,3344)
add('udp','1.2.3.4','5.6.7.8',1122,3344)
add('icmp','1.2.3.4','5.6.7.8',8,0)
add('icmp','5.6.7.8','1.2.3.4',0,0)
add('icmp','1.2.3.4','5.6.7.8',3,3)
add('icmp','1.2.3.4','5.6.7.8',11,0)
add('icmp6','fe80::200:86ff:fe05:80da','fe80::260:97ff:fe07:69ea',135,0)
add('icmp6','fe80::260:97ff:fe07:69ea','fe80::200:86ff:fe05:80da',136,0)
add('icmp6','3ffe:507:0:1:260:97ff:fe07:69ea','3ffe:507:0:1:200:86ff:fe05:80da',3,0)
add('icmp6','2001:db8::1','2001:db8::2',128,0)
add('tcp','2001:db8::1','2001:db8::2',443,51000)
add('udp','fe80::1','fe80::1',53,53)
add('sctp','192.168.1.1','10.0.0.1',5000,6000)
add('47','10.0.0.1','10.0.0.2',None,None)
add('tcp','10.0.0.1','10.0.0.1',80,1024)
add('tcp','10.0.0.1','10.0.0.1',1024,80)
add('tcp','1.2.3.4','5.6.7.8',1122,3344,cid1,1)
random.seed(7)
for i in range(40):
    p = random.choice(['tcp','udp','icmp'])
    a = '.'.join(str(random.randint(0,255)) for _ in range(4))
    b = '.'.join(str(random.randint(0,255)) for _ in range(4))
    if p == 'icmp':
        add(p, a, b, random.choice([0,3,8,11,13,14]), random.randint(0,3))
    else:
        add(p, a, b, random.randint(1,65535), random.randint(1,65535))
with open('ORACLE-vectors.tsv','w') as fh:
    fh.write('#seed\tproto\tsrc\tdst\tsport_or_type\tdport_or_code\tcommunity_id\n')
    for r in rows:
        fh.write('\t'.join(str(x) for x in r)+'\n')
