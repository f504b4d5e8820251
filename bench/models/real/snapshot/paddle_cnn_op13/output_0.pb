

Bsave_infer_model/scale_0.tmp_0J(≥ж=ща=щ„°=xњР=Й_и=в¬=/У>,Р∞=@Ёе=ПnЪ=