

B
Identity:0J(XSÌ>7ÇÏ<£éV=ˆ Ÿ=1ï|=•“%=OQö=·~Ð=ŒpS=ÆaŽ=