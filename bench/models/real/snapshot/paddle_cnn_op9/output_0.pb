

Bsave_infer_model/scale_0.tmp_0J(Fº=æÍ±=7iâ=ÓaÙ=8>Ò¤=±bé=ËBÓ=ª=Q'=