# plan: 1
# Issue 12 item 5, as a hostile job: the default policy refuses socketpair
# of every family but AF_UNIX and inet sockets of every protocol but TCP
# and UDP with EPERM from the filter, before the kernel's family code (and
# its module autoloading) runs; TCP, UDP and unix sockets still work.
sbx sockfam --timeout 10 -- "$P/sockfam"
expect_outcome ok
expect_rc 0
expect_no_out '^GOT THROUGH'
expect_no_out '^BROKEN'
expect_out '^refused socket(AF_INET, STREAM, SCTP): EPERM$'
expect_out '^allowed socket(AF_INET, DGRAM, UDP)$'
result "socket families: socketpair only AF_UNIX, inet only TCP/UDP, refused with the filter's EPERM (SCTP, MPTCP, DCCP, TIPC, RDS, raw)"
