/**
 * The smallest embedding: a two-node ring in one process, a record, and a message to oneself.
 * `npx tsx examples/embed-node.ts`
 */
import { createChordNode, createIdentity } from '../src/index.js'

const first = await createChordNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
const second = await createChordNode({ listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [first.getMultiaddrs()[0].toString()] })

await first.put('greeting', new TextEncoder().encode('hello'))
console.log('get:', (await second.get('greeting')).map(v => new TextDecoder().decode(v)))

const me = await createIdentity()
const delivered = Promise.withResolvers<string>()
const subscription = await second.mailbox.subscribe(me, async msg => {
  delivered.resolve(new TextDecoder().decode(msg.plaintext))
  await second.mailbox.ack(me, [msg.id])
})
await first.mailbox.send(me, me.address, new TextEncoder().encode('a note to self'))
console.log('mailbox:', await delivered.promise)
await subscription.close()

await second.stop()
await first.stop()
