/**
 * The ring and the mailbox as services of an application's own libp2p node, next to kad-dht:
 * two such nodes on 127.0.0.1 form a ring, share a record and exchange a message.
 * `npx tsx examples/embed.ts`
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { kadDHT, removePublicAddressesMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { chord, chordMailbox, createIdentity } from '../src/index.js'

/** An application's libp2p node with its own kad-dht, and the ring's two services */
async function appNode (bootstrap: string[]) {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      ping: ping(),
      // the application's own DHT, untouched by the ring beside it (loopback needs these two settings)
      dht: kadDHT({ clientMode: false, peerInfoMapper: removePublicAddressesMapper }),
      chord: chord({ bootstrap }),
      mailbox: chordMailbox()
    }
  })
}

const first = await appNode([])
const second = await appNode([first.getMultiaddrs()[0].toString()])
await Promise.all([first.services.chord.joined(), second.services.chord.joined()])

await first.services.chord.put('greeting', new TextEncoder().encode('hello'))
console.log('get:', (await second.services.chord.get('greeting')).map(v => new TextDecoder().decode(v)))

const me = await createIdentity()
const delivered = Promise.withResolvers<string>()
const subscription = await second.services.mailbox.subscribe(me, async msg => {
  delivered.resolve(new TextDecoder().decode(msg.plaintext))
  await second.services.mailbox.ack(me, [msg.id])
})
await first.services.mailbox.send(me, me.address, new TextEncoder().encode('a note to self'))
console.log('mailbox:', await delivered.promise)
await subscription.close()

await second.stop()
await first.stop()
