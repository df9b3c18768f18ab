## The offline demo assistant (LLM_BASE_URL=demo, or :demo on in the console). Its answers are
## canned on purpose: they show the chat and its points without an AI service.

demo-label = 🧪 Demo assistant: offline, canned answers, not a real AI.
demo-greeting = Hello! Ask me about Bitcoin, Ethereum, blockchains, staking, DeFi or wallets, and watch /points: every answered question earns points.
demo-bitcoin = Bitcoin (BTC) is the first cryptocurrency, launched in 2009: a public ledger kept by thousands of computers, with a fixed supply of 21 million coins. New blocks are added about every 10 minutes by proof-of-work mining.
demo-ethereum = Ethereum (ETH) is a blockchain that runs programs, called smart contracts. Tokens, DeFi and NFTs are built on it. Since 2022 it is secured by proof of stake instead of mining.
demo-blockchain = A blockchain is a shared ledger: transactions are grouped into blocks, and each block points to the one before it, so changing history would mean redoing every later block. Many independent computers keep copies and agree on the next block.
demo-staking = Staking means locking coins to help secure a proof-of-stake network; in return the network pays rewards. The risks: the coin's price can fall, coins may be locked for a while, and a misbehaving validator can lose part of the stake.
demo-defi = DeFi (decentralized finance) is lending, trading and saving through smart contracts instead of banks. It is open to anyone with a wallet, but a bug in a contract can lose the funds in it: check audits and start small.
demo-wallet = A wallet keeps the keys to your coins. Whoever knows the seed phrase controls the funds: write it down offline, never type it into a website or a chat, and nobody, including support, will ever need it.
demo-price = I can't tell where a price goes, and a real assistant would not promise it either: crypto is volatile and the decision is yours. Look at the project, its risks, and only invest what you can afford to lose.
demo-other = That one is beyond this demo: it knows only a few topics (Bitcoin, Ethereum, blockchains, staking, DeFi, wallets). Connect a real AI with LLM_BASE_URL, LLM_API_KEY and LLM_MODEL for real answers.
demo-vision = I received { $count ->
        [one] your picture
       *[other] { $count } pictures
    }, but this demo cannot look at images. Connect a real vision-capable AI (LLM_BASE_URL, LLM_VISION_MODEL) to have charts and screenshots analysed.
