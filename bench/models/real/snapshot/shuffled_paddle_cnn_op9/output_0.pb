

Bsave_infer_model/scale_0.tmp_0J(ÁS=.Øx=î"¡=3ø>¾‘Á=¨ƒ= >n”ë=1·,>Ç³•=