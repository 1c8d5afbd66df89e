"""The SSRF corpus of issue 11: URLs a webhook must never reach, and the stubbed DNS they need."""
from __future__ import annotations

#: What the stubbed resolver answers (see network.stub_dns); `rebinding.test` answers public
#: on its first look-up and loopback afterwards.
DNS = {
    "internal.test": [["10.0.0.5"]],
    "localhost": [["127.0.0.1"]],
    "metadata.test": [["169.254.169.254"]],
    "mixed.test": [["93.184.215.14", "127.0.0.1"]],
    "v6-private.test": [["fd00::1"]],
    "v6-mapped.test": [["::ffff:10.1.2.3"]],
    "rebinding.test": [["93.184.215.14"], ["127.0.0.1"]],
    "public.test": [["93.184.215.14"]],
    "xn--bcher-kva.test": [["192.168.0.10"]],
    "public-v6.test": [["2606:2800:21f:cb07:6820:80da:af6b:8b2c"]],
}

REFUSED_URLS = [
    # 127.0.0.1 in every form a resolver reads
    "http://127.0.0.1/hook",
    "http://127.1/hook",
    "http://2130706433/hook",
    "http://0x7f000001/hook",
    "http://017700000001/hook",
    "http://0177.0.0.1/hook",
    "http://0x7f.1/hook",
    "http://127.0.0.1.:8080/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:7f00:1]/hook",
    "http://[::127.0.0.1]/hook",
    "http://[::1]/hook",
    # unspecified
    "http://0.0.0.0/hook",
    "http://0/hook",
    "http://[::]/hook",
    # private, link-local, metadata, CGNAT, benchmarking, reserved, multicast, documentation
    "http://10.0.0.1/hook",
    "http://172.16.0.1/hook",
    "http://172.31.255.254/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/hook",
    "http://100.64.0.1/hook",
    "http://198.18.0.1/hook",
    "http://240.0.0.1/hook",
    "http://255.255.255.255/hook",
    "http://224.0.0.1/hook",
    "http://[ff02::1]/hook",
    "http://192.0.2.1/hook",
    "http://[2001:db8::1]/hook",
    "http://[fc00::1]/hook",
    "http://[fd12:3456::1]/hook",
    "http://[fec0::1]/hook",
    # IPv4 carried inside IPv6: NAT64, 6to4, Teredo (client 10.0.0.1, obfuscated)
    "http://[64:ff9b::a00:1]/hook",
    "http://[64:ff9b::7f00:1]/hook",
    "http://[64:ff9b:1:a00:0:100::]/hook",
    "http://[2002:a00:1::]/hook",
    "http://[2002:7f00:1::1]/hook",
    "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hook",
    # names that resolve somewhere private
    "https://internal.test/hook",
    "https://localhost/hook",
    "http://metadata.test/latest/meta-data/",
    "https://mixed.test/hook",
    "https://v6-private.test/hook",
    "https://v6-mapped.test/hook",
    "https://unknown-name.test/hook",
    "https://bücher.test/hook",
    "https://a..b.test/hook",
    # the wrong shape
    "https://evil@127.0.0.1/hook",
    "http://127.0.0.1:80@public.test/hook",
    "http://public.test\\@127.0.0.1/hook",
    "http://%31%32%37.0.0.1/hook",
    "https://user:secret@public.test/hook",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "ftp://public.test/hook",
    "javascript:alert(1)",
    "http:///hook",
    "https://public.test:99999/hook",
    "https://public .test/hook",
    "https://public.test/\x00hook",
    "https://public.test/" + "a" * 2048,
    "http://256.0.0.1/hook",
    "",
]

ACCEPTED_URLS = [
    "https://93.184.215.14/hook",
    "https://public.test/hook?store=1",
    "http://public.test:8443/hook",
    "https://public-v6.test/hook",
    "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook",
    "https://[::ffff:93.184.215.14]/hook",
    "https://[2002:5db8:d70e::1]/hook",
]
