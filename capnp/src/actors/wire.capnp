# The actor cluster's own protocol (capnp/ layer, private to moonpool::rpc): the gateway
# every actor host serves, and the directory one owner serves (cluster.h).
@0xb7c1e3a5d2f40917;

$import "/capnp/c++.capnp".namespace("moonpool::actors::wire");

struct Key {
  union {
    text @0 :Text;
    number @1 :Int64;
  }
}

interface Gateway {
  # Runs method `method` (its ordinal in the actor type's schema interface) of the activation
  # of (type, key) on this host, in a turn of call chain `chain`, if this host holds (or can
  # claim) the key's lease of `epoch`; fails "actor not here: ..." otherwise. `params` holds
  # the method's Params struct and `results` its Results struct (the schema moonpool-annotate
  # generates for the actor type): one message each way per actor call.
  call @0 (type :Text, key :Key, epoch :UInt64, chain :UInt64, method :UInt16,
           params :AnyPointer) -> (results :AnyPointer);
}

struct Lease {
  type @0 :Text;
  key @1 :Key;
  epoch @2 :UInt64;
}

interface Directory {
  # Where (type, key) lives: its host ("ip:port") and placement epoch, placing it first if
  # it has no live placement. `requester` is the asking host, for prefer-local placement.
  lookup @0 (type :Text, key :Key, requester :Text) -> (host :Text, epoch :UInt64);
  # Claims or renews leases for `host`; granted[i] says whether leases[i] holds for
  # another leaseMs from when the directory answered.
  renew @1 (host :Text, leases :List(Lease)) -> (granted :List(Bool), leaseMs :UInt64);
}

interface StateService {
  # The state stored under `name` (found = false: none).
  read @0 (name :Text) -> (found :Bool, etag :UInt64, bytes :Data);
  # Replaces it if its etag is `expectedEtag`; conflict = true (and `etag` the current one)
  # otherwise.
  write @1 (name :Text, expectedEtag :UInt64, bytes :Data) -> (etag :UInt64, conflict :Bool);
}
