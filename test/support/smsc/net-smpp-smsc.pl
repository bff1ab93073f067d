#!/usr/bin/perl
# An SMSC built on Net::SMPP (Debian: libnet-smpp-perl), so the SMPP client is also tested
# against an implementation that shares no code with the `smpp` package.
#
#   net-smpp-smsc.pl --system-id ID --password PW [--port N]
#
# Listens on 127.0.0.1 (port 0: any), prints "LISTENING <port>", then one JSON line per event
# on stdout. Serves several ESMEs from one process with select(); exits when stdin closes.
use strict;
use warnings;
use Getopt::Long;
use IO::Select;
use JSON::PP;
use POSIX qw(strftime);
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Net::SMPP;

my ($port, $system_id, $password) = (0, undef, undef);
GetOptions('port=i' => \$port, 'system-id=s' => \$system_id, 'password=s' => \$password)
  && defined $system_id && defined $password
  or die "usage: $0 --system-id ID --password PW [--port N]\n";

my $listener = Net::SMPP->new_listen('127.0.0.1', port => $port, async => 1)
  or die "cannot listen on 127.0.0.1:$port: $!\n";
$| = 1;
print 'LISTENING ', $listener->sockport, "\n";

my $json = JSON::PP->new->canonical;
sub log_event { print $json->encode({@_}), "\n" }

my %bind_resp = (0x01 => 'bind_receiver_resp', 0x02 => 'bind_transmitter_resp',
                 0x09 => 'bind_transceiver_resp');
my $next_id = 100_000_000 + int(rand(800_000_000));
my %bound;
my $select = IO::Select->new($listener, \*STDIN);

while (1) {
  for my $fh ($select->can_read) {
    if ($fh == $listener) {
      my $esme = $listener->accept or next;
      setsockopt($esme, IPPROTO_TCP, TCP_NODELAY, 1);
      $select->add($esme);
    } elsif ($fh == \*STDIN) {
      exit 0 unless sysread(STDIN, my $ignored, 4096);
    } elsif (my $pdu = $fh->read_pdu) {
      handle($fh, $pdu);
    } else {
      $select->remove($fh);
      delete $bound{$fh};
      close $fh;
    }
  }
}

sub handle {
  my ($esme, $pdu) = @_;
  my ($cmd, $seq) = ($pdu->{cmd}, $pdu->{seq});
  if (my $resp = $bind_resp{$cmd}) {
    my $status = $pdu->{system_id} ne $system_id ? 0x0F    # ESME_RINVSYSID
               : $pdu->{password} ne $password   ? 0x0E    # ESME_RINVPASWD
               : 0;
    $bound{$esme} = $cmd unless $status;
    log_event(event => 'bind', system_id => $pdu->{system_id}, status => $status);
    $esme->$resp(system_id => 'NetSMPP', seq => $seq, status => $status);
  } elsif ($cmd == 0x15) {
    $esme->enquire_link_resp(seq => $seq);
  } elsif ($cmd == 0x06) {
    log_event(event => 'unbind');
    $esme->unbind_resp(seq => $seq);
  } elsif ($cmd == 0x04) {
    submit($esme, $pdu);
  } elsif ($cmd == 0x80000005) {
    log_event(event => 'deliver_resp', seq => $seq, status => $pdu->{status});
  } elsif (!($cmd & 0x80000000)) {
    $esme->generic_nack(seq => $seq, status => 0x03);    # ESME_RINVCMDID
  }
}

sub submit {
  my ($esme, $pdu) = @_;
  my $bind = $bound{$esme} // 0;
  if ($bind != 0x02 && $bind != 0x09) {
    return $esme->submit_sm_resp(message_id => '', seq => $pdu->{seq}, status => 0x04);
  }
  my $id = $next_id++;
  my $sm = $pdu->{short_message};
  log_event(
    event => 'submit', id => "$id",
    source_addr => $pdu->{source_addr}, source_addr_ton => $pdu->{source_addr_ton},
    destination_addr => $pdu->{destination_addr}, data_coding => $pdu->{data_coding},
    esm_class => $pdu->{esm_class}, registered_delivery => $pdu->{registered_delivery},
    short_message_hex => unpack('H*', $sm),
    (defined $pdu->{message_payload}
      ? (message_payload_hex => unpack('H*', $pdu->{message_payload})) : ()),
  );
  $esme->submit_sm_resp(message_id => "$id", seq => $pdu->{seq});
  return unless ($pdu->{registered_delivery} & 0x03) == 1;

  $sm = substr($sm, 1 + ord($sm)) if $pdu->{esm_class} & 0x40 && length $sm;    # skip the UDH
  my $text = $pdu->{data_coding} == 0 ? substr($sm, 0, 20) : '';
  $text =~ tr/\x20-\x7e/?/c;
  my $date = strftime('%y%m%d%H%M', gmtime);
  $esme->deliver_sm(
    async => 1,
    source_addr_ton => $pdu->{dest_addr_ton}, source_addr_npi => $pdu->{dest_addr_npi},
    source_addr => $pdu->{destination_addr},
    dest_addr_ton => $pdu->{source_addr_ton}, dest_addr_npi => $pdu->{source_addr_npi},
    destination_addr => $pdu->{source_addr},
    esm_class => 0x04, data_coding => 0,
    short_message => "id:$id sub:001 dlvrd:001 submit date:$date done date:$date"
      . " stat:DELIVRD err:000 text:$text",
  );
  log_event(event => 'receipt', id => "$id");
}
